import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { PostgresMessageQueries, PostgresUnitOfWork } from "../../../storage/index.ts";
import { testCipher } from "../../support/recipient-cipher.ts";
import { localServices } from "../../support/services.ts";

describe("the message log's queries on PostgreSQL", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 2 }, createLogger("silent"));
  const cipher = testCipher();
  const queries = new PostgresMessageQueries(orm, cipher);
  afterAll(() => orm.close(true));

  it("pages by the column's microseconds, which a Date would round to one millisecond", async () => {
    const userId = randomUUID();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    await new PostgresUnitOfWork(orm, cipher).run((tx) =>
      tx.messages.append(
        ids.map((messageId) => ({
          messageId,
          requestId: `req-${messageId}`,
          userId,
          channel: "sms" as const,
          recipient: "+79123456789",
          priority: "normal" as const,
          status: "queued" as const,
          requestedAt: new Date(Date.UTC(2026, 0, 1)),
        })),
      ),
    );
    // The same millisecond, three microseconds: .000001, .000002, .000003.
    for (const [index, id] of ids.entries()) {
      await orm.em
        .fork()
        .getConnection()
        .execute("UPDATE notification_message_log SET requested_at = ?::timestamptz WHERE id = ?", [
          `2026-01-01T00:00:00.00000${index + 1}Z`,
          id,
        ]);
    }
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await queries.list({ userId, pageSize: 1, ...(pageToken ? { pageToken } : {}) });
      seen.push(...page.messages.map((message) => message.id));
      pageToken = page.nextPageToken;
    } while (pageToken && seen.length < 10);
    expect(seen).toEqual([...ids].reverse());
    const [first] = (await queries.list({ userId, pageSize: 1 })).messages;
    expect(first?.recipient).toBe("+79123456789");
  });
});
