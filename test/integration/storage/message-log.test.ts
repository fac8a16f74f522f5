import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import type { NewMessage, StatusChange } from "../../../core/sending/index.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { PostgresMessageQueries, PostgresUnitOfWork, unpackEvents } from "../../../storage/index.ts";
import { testCipher } from "../../support/recipient-cipher.ts";
import { localServices } from "../../support/services.ts";

interface LogRow {
  id: string;
  status: string;
  recipient_address: string;
  recipient_hash: string | null;
  attempts: number;
  provider_name: string | null;
  last_error: string | null;
  status_details: string | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  opened_at: Date | null;
}

describe("the message log in the PostgreSQL unit of work", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 4 }, createLogger("silent"));
  const cipher = testCipher();
  const unitOfWork = new PostgresUnitOfWork(orm, cipher);
  // The topic of its outbox rows is not on Kafka: a relay finding them would try forever.
  afterAll(async () => {
    await orm.em
      .fork()
      .getConnection()
      .execute("DELETE FROM notification_outbox WHERE topic LIKE 'test.changes.%'");
    await orm.close(true);
  });

  // In the order of `ids`: messages requested in the same millisecond have no order of their own.
  const rowsOf = (ids: string[]) =>
    orm.em
      .fork()
      .getConnection()
      .execute<LogRow[]>(
        // In the order asked for: messages made in one test share their requested_at.
        "SELECT * FROM notification_message_log WHERE id = ANY(?::uuid[]) ORDER BY array_position(?::uuid[], id)",
        [`{${ids.join(",")}}`, `{${ids.join(",")}}`],
      );
  const message = (overrides: Partial<NewMessage> = {}): NewMessage => ({
    messageId: randomUUID(),
    requestId: `req-${randomUUID()}`,
    userId: randomUUID(),
    channel: "email",
    recipient: "Ivan.Petrov@Example.com",
    priority: "high",
    status: "queued",
    requestedAt: new Date(),
    ...overrides,
  });
  const at = (offsetMs: number) => new Date(Date.now() + offsetMs);

  it("appends in batches, with the recipient sealed and a keyed hash for lookups", async () => {
    const messages = Array.from({ length: 1_500 }, (_, index) =>
      message({ requestedAt: new Date(Date.UTC(2026, 11, 1, 0, 0, 0, index)) }),
    );
    await unitOfWork.run((tx) => tx.messages.append(messages));
    // The same again (a redelivery) changes nothing.
    await unitOfWork.run((tx) => tx.messages.append(messages.slice(0, 10)));
    const rows = await rowsOf(messages.map((each) => each.messageId));
    expect(rows).toHaveLength(1_500);
    const [first] = rows;
    expect(first?.recipient_address).not.toContain("Ivan");
    expect(cipher.open(first?.recipient_address ?? "", first?.id ?? "")).toBe("Ivan.Petrov@Example.com");
    expect(first?.recipient_hash).toBe(cipher.lookupHash("ivan.petrov@example.com"));
  });

  it("keeps an in-app message's user id once, in user_id, and answers and finds it as the recipient", async () => {
    const userId = randomUUID();
    const inApp = message({ channel: "in_app", userId, recipient: userId });
    // An in-app recipient that is not the message's user is sealed as any other.
    const other = message({ channel: "in_app", recipient: "someone-else" });
    await unitOfWork.run((tx) => tx.messages.append([inApp, other]));
    const [kept, sealed] = await rowsOf([inApp.messageId, other.messageId]);
    expect(kept?.recipient_address).toBe("");
    expect(kept?.recipient_hash).toBeNull();
    expect(sealed?.recipient_address).not.toContain("someone");
    expect(sealed?.recipient_hash).toBe(cipher.lookupHash("someone-else"));
    const queries = new PostgresMessageQueries(orm, cipher);
    expect((await queries.get(inApp.messageId))?.recipient).toBe(userId);
    expect((await queries.get(other.messageId))?.recipient).toBe("someone-else");
    const byRecipient = async (recipient: string) =>
      (await queries.list({ recipient, pageSize: 10 })).messages.map((each) => each.id);
    expect(await byRecipient(userId)).toEqual([inApp.messageId]);
    expect(await byRecipient("someone-else")).toContain(other.messageId);
    const provider = `in-app-${randomUUID()}`;
    await unitOfWork.run((tx) =>
      tx.messages.record([
        { messageId: inApp.messageId, status: "sent", at: at(1), provider, providerMessageId: "p-1" },
      ]),
    );
    expect(await unitOfWork.run((tx) => tx.messages.awaitingReport(provider, at(-60_000), 10))).toEqual([
      { providerMessageId: "p-1", recipient: userId },
    ]);
  });

  it("applies the status changes that may follow, in the order they come, and reports only those", async () => {
    const mail = message();
    const quiet = message({ status: "suppressed", statusDetails: "channel_disabled", recipient: "" });
    await unitOfWork.run((tx) => tx.messages.append([mail, quiet]));
    const change = (status: StatusChange["status"], offsetMs: number, extra: Partial<StatusChange> = {}) => ({
      messageId: mail.messageId,
      status,
      at: at(offsetMs),
      ...extra,
    });
    const applied = await unitOfWork.run((tx) =>
      tx.messages.record([
        change("sent", 10, { provider: "sink" }),
        change("sent", 20),
        // An open reported before the delivery receipt: the receipt comes too late to apply.
        change("opened", 30),
        change("delivered", 40),
        { messageId: quiet.messageId, status: "sent", at: at(50) },
      ]),
    );
    expect(applied.map((each) => each.status)).toEqual(["sent", "opened"]);
    const [mailRow, quietRow] = await rowsOf([mail.messageId, quiet.messageId]);
    expect(mailRow).toMatchObject({
      status: "opened",
      provider_name: "sink",
      attempts: 1,
      delivered_at: null,
    });
    expect(mailRow?.sent_at).not.toBeNull();
    expect(mailRow?.opened_at).not.toBeNull();
    expect(quietRow).toMatchObject({
      status: "suppressed",
      status_details: "channel_disabled",
      recipient_hash: null,
    });
  });

  it("keeps the reason of a failure, and writes nothing of a step that rolled back", async () => {
    const mail = message();
    await unitOfWork.run(async (tx) => {
      await tx.messages.append([mail]);
      await tx.messages.record([
        { messageId: mail.messageId, status: "failed", at: at(5), details: "mailbox_full" },
      ]);
    });
    expect((await rowsOf([mail.messageId]))[0]).toMatchObject({
      status: "failed",
      last_error: "mailbox_full",
      attempts: 1,
    });
    const lost = message();
    await expect(
      unitOfWork.run(async (tx) => {
        await tx.claims.claim([{ requestId: lost.requestId, recipientKey: "user:1", channel: "email" }]);
        await tx.messages.append([lost]);
        throw new Error("the step failed");
      }),
    ).rejects.toThrow("the step failed");
    expect(await rowsOf([lost.messageId])).toEqual([]);
  });

  it("answers the messages awaiting a provider's report with their recipient opened, null where it cannot be", async () => {
    const provider = `smsc-${randomUUID()}`;
    const sms = (recipient: string) => message({ channel: "sms", recipient });
    const [first, second, tampered, reported] = [
      sms("+79991234501"),
      sms("+79991234502"),
      sms("+79991234503"),
      sms("+79991234504"),
    ] as [NewMessage, NewMessage, NewMessage, NewMessage];
    await unitOfWork.run((tx) => tx.messages.append([first, second, tampered, reported]));
    const sent = (each: NewMessage, offsetMs: number): StatusChange => ({
      messageId: each.messageId,
      status: "sent",
      at: at(offsetMs),
      provider,
      providerMessageId: `smsc-id-${offsetMs}`,
    });
    await unitOfWork.run((tx) =>
      tx.messages.record([
        sent(first, 1),
        sent(second, 2),
        sent(tampered, 3),
        sent(reported, 4),
        { messageId: reported.messageId, status: "delivered", at: at(5) },
      ]),
    );
    await orm.em
      .fork()
      .getConnection()
      .execute("UPDATE notification_message_log SET recipient_address = 'k1.not.sealed.here' WHERE id = ?", [
        tampered.messageId,
      ]);
    const awaiting = await unitOfWork.run((tx) => tx.messages.awaitingReport(provider, at(-60_000), 10));
    expect(awaiting).toEqual([
      { providerMessageId: "smsc-id-1", recipient: "+79991234501" },
      { providerMessageId: "smsc-id-2", recipient: "+79991234502" },
      { providerMessageId: "smsc-id-3", recipient: null },
    ]);
    expect(await unitOfWork.run((tx) => tx.messages.awaitingReport(provider, at(-60_000), 1))).toEqual([
      { providerMessageId: "smsc-id-1", recipient: "+79991234501" },
    ]);
  });

  it("records changes with their events at once: only the events of changes that applied reach the outbox", async () => {
    const topic = `test.changes.${randomUUID()}`;
    const queued = message();
    const done = message({ status: "suppressed", recipient: "" });
    await unitOfWork.run((tx) => tx.messages.append([queued, done]));
    const eventOf = (change: StatusChange) => ({
      topic,
      key: change.messageId,
      headers: {},
      value: Buffer.from(`${change.status} ${change.messageId}`),
    });
    const sent = { messageId: queued.messageId, status: "sent" as const, at: at(0), provider: "sink" };
    // A suppressed message is never sent: that change does not apply, and its event is not told.
    const refused = { messageId: done.messageId, status: "sent" as const, at: at(0) };
    const applied = await unitOfWork.recordChanges([sent, refused], [eventOf(sent), eventOf(refused)]);
    expect(applied).toEqual([sent]);
    const [row] = await rowsOf([queued.messageId]);
    expect([row?.status, row?.provider_name, row?.attempts]).toEqual(["sent", "sink", 1]);
    // Two changes of one message go in turns, in a transaction: both apply, both are told.
    const delivered = { messageId: queued.messageId, status: "delivered" as const, at: at(1) };
    const opened = { messageId: queued.messageId, status: "opened" as const, at: at(2) };
    expect(
      await unitOfWork.recordChanges([delivered, opened], [eventOf(delivered), eventOf(opened)]),
    ).toEqual([delivered, opened]);
    const outbox = await orm.em
      .fork()
      .getConnection()
      .execute<{ events: Buffer }[]>("SELECT events FROM notification_outbox WHERE topic = ? ORDER BY id", [
        topic,
      ]);
    const told = outbox
      .flatMap((each) => unpackEvents(topic, each.events))
      .map((event) => Buffer.from(event.value).toString());
    expect(told).toEqual([
      `sent ${queued.messageId}`,
      `delivered ${queued.messageId}`,
      `opened ${queued.messageId}`,
    ]);
  });
});
