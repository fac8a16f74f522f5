import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import type { InboxMessage, NewInboxMessage } from "../../../core/inbox/index.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { PostgresInboxStore } from "../../../storage/index.ts";
import { localServices } from "../../support/services.ts";

// Every test takes users of its own: the test database is shared between runs.
const message = (userId: string, title = "Заказ отправлен"): NewInboxMessage => ({
  userId,
  messageId: randomUUID(),
  notificationType: "order_shipped",
  title,
  body: `Тело: ${title}`,
});

const seqsOf = (messages: { seq: number }[]) => messages.map((each) => each.seq);

describe("PostgresInboxStore on PostgreSQL", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 10 }, createLogger("silent"));
  const store = new PostgresInboxStore(orm);

  afterAll(() => orm.close(true));

  /** A user whose inbox holds `count` messages, seqs 1…count, titled "#1"… */
  async function inboxOf(count: number): Promise<{ userId: string; stored: InboxMessage[] }> {
    const userId = randomUUID();
    const stored: InboxMessage[] = [];
    for (let index = 1; index <= count; index++)
      stored.push(await store.append(message(userId, `#${index}`)));
    return { userId, stored };
  }

  it("numbers each user's messages 1, 2, 3 on their own", async () => {
    const [ann, bob] = [randomUUID(), randomUUID()];
    const order = [ann, bob, ann, ann, bob, bob];
    const seqs: [string, number][] = [];
    for (const userId of order) seqs.push([userId, (await store.append(message(userId))).seq]);
    expect(seqs).toEqual([
      [ann, 1],
      [bob, 1],
      [ann, 2],
      [ann, 3],
      [bob, 2],
      [bob, 3],
    ]);
  });

  it("stores a message as it was given, with its time and no state yet", async () => {
    const userId = randomUUID();
    const before = Date.now();
    const given = message(userId, "Привет");
    const stored = await store.append(given);
    expect(stored).toEqual({ ...given, seq: 1, createdAt: expect.any(Date) });
    expect(stored.createdAt.getTime()).toBeGreaterThanOrEqual(before - 5_000);
    expect(await store.after(userId, 0, 10)).toEqual([stored]);
  });

  it("answers a message id stored before with its first row, and skips no seq for it", async () => {
    const userId = randomUUID();
    const first = message(userId, "first");
    const stored = await store.append(first);
    const again = await store.append({ ...first, title: "changed on the retry" });
    expect(again).toEqual(stored);
    expect((await store.append(message(userId))).seq).toBe(2);
    expect(await store.counts(userId)).toEqual({ unread: 2, headSeq: 2 });
  });

  it("stores a message appended twice at once only once", async () => {
    const userId = randomUUID();
    const same = message(userId);
    const [one, other] = await Promise.all([store.append(same), store.append(same)]);
    expect(one).toEqual(other);
    expect(seqsOf(await store.after(userId, 0, 10))).toEqual([1]);
    expect((await store.append(message(userId))).seq).toBe(2);
  });

  it("gives 50 concurrent appends of one user the seqs 1…50, none skipped or taken twice", async () => {
    const userId = randomUUID();
    const stored = await Promise.all(
      Array.from({ length: 50 }, (_, index) => store.append(message(userId, `#${index}`))),
    );
    const expected = Array.from({ length: 50 }, (_, index) => index + 1);
    expect(seqsOf(stored).sort((a, b) => a - b)).toEqual(expected);
    const kept = await store.after(userId, 0, 100);
    expect(seqsOf(kept)).toEqual(expected);
    expect(new Set(kept.map((each) => each.messageId)).size).toBe(50);
    expect(await store.counts(userId)).toEqual({ unread: 50, headSeq: 50 });
  });

  it("answers what came after a seq, oldest first, at most the limit", async () => {
    const { userId, stored } = await inboxOf(4);
    expect(await store.after(userId, 1, 2)).toEqual(stored.slice(1, 3));
    expect(seqsOf(await store.after(userId, 2, 10))).toEqual([3, 4]);
    expect(await store.after(userId, 4, 10)).toEqual([]);
    expect(await store.after(randomUUID(), 0, 10)).toEqual([]);
  });

  describe("lists and counts by state", () => {
    // Seqs 1…6: 2 and 4 read, 4 and 5 archived, 6 archived unread. Unread and not archived: 1, 3.
    async function seeded() {
      const inbox = await inboxOf(6);
      await store.mark(inbox.userId, [2, 4], "read");
      await store.mark(inbox.userId, [4, 5, 6], "archived");
      return inbox;
    }

    it("lists each filter newest first", async () => {
      const { userId } = await seeded();
      const list = async (filter: "all" | "unread" | "read" | "archived") =>
        seqsOf(await store.list(userId, filter, { limit: 10 }));
      expect(await list("all")).toEqual([3, 2, 1]);
      expect(await list("unread")).toEqual([3, 1]);
      expect(await list("read")).toEqual([2]);
      expect(await list("archived")).toEqual([6, 5, 4]);
    });

    it("answers the messages with their read and archive times", async () => {
      const { userId } = await seeded();
      const [six, , four] = await store.list(userId, "archived", { limit: 10 });
      expect(four?.readAt).toBeInstanceOf(Date);
      expect(four?.archivedAt).toBeInstanceOf(Date);
      expect(six?.readAt).toBeUndefined();
      expect(six?.archivedAt).toBeInstanceOf(Date);
      expect(six?.deliveredAt).toBeUndefined();
    });

    it("pages below beforeSeq, with the filter kept", async () => {
      const { userId } = await seeded();
      expect(seqsOf(await store.list(userId, "all", { limit: 2 }))).toEqual([3, 2]);
      expect(seqsOf(await store.list(userId, "all", { beforeSeq: 2, limit: 2 }))).toEqual([1]);
      expect(seqsOf(await store.list(userId, "all", { beforeSeq: 1, limit: 2 }))).toEqual([]);
      expect(seqsOf(await store.list(userId, "unread", { beforeSeq: 3, limit: 2 }))).toEqual([1]);
      expect(seqsOf(await store.list(userId, "archived", { beforeSeq: 6, limit: 1 }))).toEqual([5]);
    });

    it("counts unread messages that are not archived, and the highest seq", async () => {
      const { userId } = await seeded();
      expect(await store.counts(userId)).toEqual({ unread: 2, headSeq: 6 });
      expect(await store.counts(randomUUID())).toEqual({ unread: 0, headSeq: 0 });
    });

    it("lists only the user's own messages", async () => {
      await seeded();
      expect(await store.list(randomUUID(), "all", { limit: 10 })).toEqual([]);
    });
  });

  describe("marks", () => {
    it("answers only the messages a change changed, by seq", async () => {
      const { userId, stored } = await inboxOf(5);
      const changed = (seqs: number[]) => seqs.map((seq) => ({ seq, messageId: stored[seq - 1]?.messageId }));

      expect(await store.mark(userId, [2], "read")).toEqual(changed([2]));
      expect(await store.mark(userId, [3, 1, 2], "read")).toEqual(changed([1, 3]));
      expect(await store.mark(userId, [1, 2, 3], "read")).toEqual([]);

      expect(await store.mark(userId, [1, 4], "unread")).toEqual(changed([1]));
      expect(await store.mark(userId, [1, 4], "unread")).toEqual([]);

      expect(await store.mark(userId, [5, 2], "archived")).toEqual(changed([2, 5]));
      expect(await store.mark(userId, [2, 5], "archived")).toEqual([]);

      // Seqs nobody has, and another user's, change nothing.
      expect(await store.mark(userId, [99], "read")).toEqual([]);
      expect(await store.mark(randomUUID(), [1, 4], "read")).toEqual([]);
      expect(await store.counts(userId)).toEqual({ unread: 2, headSeq: 5 });
    });

    it("archives without reading: an archived message keeps its read state", async () => {
      const { userId } = await inboxOf(2);
      await store.mark(userId, [1, 2], "archived");
      expect(seqsOf(await store.list(userId, "archived", { limit: 10 }))).toEqual([2, 1]);
      const [two] = await store.list(userId, "archived", { limit: 1 });
      expect(two?.readAt).toBeUndefined();
      expect(await store.counts(userId)).toEqual({ unread: 0, headSeq: 2 });
    });

    it('reads "all": every unread message not archived, once', async () => {
      const { userId } = await inboxOf(5);
      await store.mark(userId, [2], "read");
      await store.mark(userId, [4], "archived");
      expect(seqsOf(await store.mark(userId, "all", "read"))).toEqual([1, 3, 5]);
      expect(await store.mark(userId, "all", "read")).toEqual([]);
      expect(seqsOf(await store.list(userId, "archived", { limit: 10 }))).toEqual([4]);
      expect((await store.list(userId, "archived", { limit: 1 }))[0]?.readAt).toBeUndefined();
      expect(await store.counts(userId)).toEqual({ unread: 0, headSeq: 5 });
    });

    it("acknowledges up to a seq, answering only the messages not acknowledged before", async () => {
      const { userId, stored } = await inboxOf(4);
      expect(await store.acknowledge(userId, 2)).toEqual(
        stored.slice(0, 2).map(({ seq, messageId }) => ({ seq, messageId })),
      );
      expect(seqsOf(await store.acknowledge(userId, 3))).toEqual([3]);
      expect(await store.acknowledge(userId, 3)).toEqual([]);
      expect(await store.acknowledge(randomUUID(), 4)).toEqual([]);
      const [first] = await store.after(userId, 0, 1);
      expect(first?.deliveredAt).toBeInstanceOf(Date);
      expect((await store.after(userId, 3, 1))[0]?.deliveredAt).toBeUndefined();
      // Delivery is not reading.
      expect(await store.counts(userId)).toEqual({ unread: 4, headSeq: 4 });
    });
  });
});
