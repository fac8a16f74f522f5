import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import type { CommittedEvents, FreshDeliveries, NewMessage } from "../../../core/sending/index.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { PostgresUnitOfWork, unpackEvents } from "../../../storage/index.ts";
import { testCipher } from "../../support/recipient-cipher.ts";
import { localServices } from "../../support/services.ts";

// The one-statement write of deliveries never claimed before: all of it or nothing.
describe("fresh deliveries in the PostgreSQL unit of work", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 4 }, createLogger("silent"));
  const cipher = testCipher();
  const unitOfWork = new PostgresUnitOfWork(orm, cipher);
  const heard: CommittedEvents[][] = [];
  unitOfWork.afterCommit((committed) => heard.push(committed));
  // Their topics are not on Kafka: a relay finding them would try forever.
  afterAll(async () => {
    await orm.em
      .fork()
      .getConnection()
      .execute("DELETE FROM notification_outbox WHERE topic LIKE 'test.fresh.%'");
    await orm.close(true);
  });

  const sql = <T>(text: string, params: unknown[]) =>
    orm.em.fork().getConnection().execute<T[]>(text, params);

  function freshDeliveries(topic: string, requestId: string, recipients: string[]): FreshDeliveries {
    const claims = recipients.map((recipientKey) => ({
      key: { requestId, recipientKey, channel: "email" as const },
      messageId: randomUUID(),
      duplicate: false,
    }));
    const messages = claims.map(
      (claim, index): NewMessage => ({
        messageId: claim.messageId,
        requestId,
        channel: "email",
        recipient: `user${index}@example.com`,
        priority: "normal",
        status: "queued",
        requestedAt: new Date(),
      }),
    );
    const events = claims.map((claim) => ({
      topic,
      key: claim.messageId,
      headers: { ce_id: claim.messageId },
      value: Buffer.from(`queued ${claim.messageId}`),
    }));
    return { claims, messages, events };
  }

  it("writes claims, messages and one outbox row of their events, and tells of the row once committed", async () => {
    const topic = `test.fresh.${randomUUID()}`;
    const requestId = `req-${randomUUID()}`;
    const fresh = freshDeliveries(topic, requestId, ["user:1", "user:2"]);
    expect(await unitOfWork.recordFresh(fresh)).toBe(true);
    const claims = await sql<{ message_id: string }>(
      "SELECT message_id FROM notification_delivery_claims WHERE request_id = ? ORDER BY recipient_key",
      [requestId],
    );
    expect(claims.map((row) => row.message_id)).toEqual(fresh.claims.map((claim) => claim.messageId));
    const logged = await sql<{ id: string; recipient_address: string }>(
      "SELECT id, recipient_address FROM notification_message_log WHERE request_id = ?",
      [requestId],
    );
    expect(logged).toHaveLength(2);
    for (const row of logged)
      expect(cipher.open(row.recipient_address, row.id)).toMatch(/^user\d@example\.com$/);
    const outbox = await sql<{ id: string; events: Buffer; event_count: number }>(
      "SELECT id, events, event_count FROM notification_outbox WHERE topic = ?",
      [topic],
    );
    expect(outbox).toHaveLength(1);
    expect(outbox[0]?.event_count).toBe(2);
    expect(unpackEvents(topic, outbox[0]?.events as Buffer).map((event) => event.key)).toEqual(
      fresh.claims.map((claim) => claim.messageId),
    );
    expect(heard.at(-1)?.map((row) => row.id)).toEqual([String(outbox[0]?.id)]);
  });

  it("writes nothing at all, and tells nothing, when one of the deliveries was claimed before", async () => {
    const topic = `test.fresh.${randomUUID()}`;
    const requestId = `req-${randomUUID()}`;
    expect(await unitOfWork.recordFresh(freshDeliveries(topic, requestId, ["user:1"]))).toBe(true);
    const told = heard.length;
    const again = freshDeliveries(topic, requestId, ["user:0", "user:1"]);
    expect(await unitOfWork.recordFresh(again)).toBe(false);
    expect(heard).toHaveLength(told);
    const claims = await sql<{ recipient_key: string }>(
      "SELECT recipient_key FROM notification_delivery_claims WHERE request_id = ?",
      [requestId],
    );
    expect(claims.map((row) => row.recipient_key)).toEqual(["user:1"]);
    const logged = await sql<{ count: string }>(
      "SELECT count(*) FROM notification_message_log WHERE request_id = ?",
      [requestId],
    );
    expect(Number(logged[0]?.count)).toBe(1);
    const outbox = await sql<{ total: string }>(
      "SELECT coalesce(sum(event_count), 0) AS total FROM notification_outbox WHERE topic = ?",
      [topic],
    );
    // The first write's event; none of the refused one.
    expect(Number(outbox[0]?.total)).toBe(1);
  });

  it("keeps text that array literals must escape exactly as it came", async () => {
    const topic = `test.fresh.${randomUUID()}`;
    const requestId = `req-"quoted", {braced} \\back\\slash NULL ${randomUUID()}`;
    const fresh = freshDeliveries(topic, requestId, ['user:"ä" {1,2} \\ NULL']);
    const [message] = fresh.messages;
    if (message) message.correlationId = 'корреляция, "с" {скобками}';
    expect(await unitOfWork.recordFresh(fresh)).toBe(true);
    const [row] = await sql<{ request_id: string; correlation_id: string; recipient_key: string }>(
      `SELECT log.request_id, log.correlation_id, claims.recipient_key
         FROM notification_message_log log JOIN notification_delivery_claims claims ON claims.message_id = log.id
        WHERE log.request_id = ?`,
      [requestId],
    );
    expect(row).toEqual({
      request_id: requestId,
      correlation_id: 'корреляция, "с" {скобками}',
      recipient_key: 'user:"ä" {1,2} \\ NULL',
    });
  });
});
