import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import { StructuredStatusEvents } from "../../../consumers/index.ts";
import { PreferenceManager } from "../../../core/preferences/index.ts";
import { ProviderFeedback, type ProviderReport } from "../../../core/sending/index.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import {
  DeviceRepository,
  PostgresSuppressionStore,
  PostgresUnitOfWork,
  PreferenceRepository,
} from "../../../storage/index.ts";
import { testCipher } from "../../support/recipient-cipher.ts";
import { localServices } from "../../support/services.ts";

// What providers report, acted on over the real stores: statuses with their events, the
// suppression list, preferences; a report seen twice or of a message we never sent.
const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 4 }, createLogger("silent"));
const cipher = testCipher();
const unitOfWork = new PostgresUnitOfWork(orm, cipher);
const suppressions = new PostgresSuppressionStore(orm, cipher, 0);
const preferences = new PreferenceManager(new PreferenceRepository(orm));
const feedback = new ProviderFeedback({
  unitOfWork,
  statusEvents: new StructuredStatusEvents(),
  suppressions,
  devices: new DeviceRepository(orm),
  preferences,
});
const provider = `provider-${randomUUID().slice(0, 8)}`;
afterAll(() => orm.close(true));

/** A message sent by `provider` under `providerMessageId`, to `recipient`. */
async function sent(recipient: string, userId?: string) {
  const messageId = randomUUID();
  const providerMessageId = `pm-${randomUUID()}`;
  await unitOfWork.run((tx) =>
    tx.messages.append([
      {
        messageId,
        requestId: `feedback-${randomUUID()}`,
        ...(userId ? { userId } : {}),
        channel: "email",
        recipient,
        priority: "normal",
        status: "queued",
        requestedAt: new Date(),
      },
    ]),
  );
  await unitOfWork.run((tx) =>
    tx.messages.record([{ messageId, status: "sent", at: new Date(), provider, providerMessageId }]),
  );
  return { messageId, providerMessageId };
}

async function statusOf(messageId: string) {
  const [row] = await orm.em
    .fork()
    .getConnection()
    .execute<{ status: string; status_details: string | null }[]>(
      "SELECT status, status_details FROM notification_message_log WHERE id = ?",
      [messageId],
    );
  return row;
}

const report = (providerMessageId: string, body: Partial<ProviderReport> & Pick<ProviderReport, "kind">) =>
  ({ provider, providerMessageId, at: new Date(), ...body }) as ProviderReport;

describe("ProviderFeedback", () => {
  it("records deliveries and bounces once, suppresses a hard bounce and a complaint, and counts what it does not know", async () => {
    const addresses = {
      bounced: `Gone-${randomUUID()}@Example.ru`,
      complained: `spam-${randomUUID()}@example.ru`,
      soft: `soft-${randomUUID()}@example.ru`,
    };
    const delivered = await sent(`ok-${randomUUID()}@example.ru`);
    const bounced = await sent(addresses.bounced);
    const complained = await sent(addresses.complained);
    const soft = await sent(addresses.soft);
    const reports = [
      report(delivered.providerMessageId, { kind: "delivered" }),
      report(bounced.providerMessageId, {
        kind: "failed",
        reason: "550 mailbox unavailable",
        permanent: true,
      }),
      report(complained.providerMessageId, { kind: "complaint" }),
      report(soft.providerMessageId, { kind: "failed", reason: "mailbox full", permanent: false }),
      report("never-sent-by-us", { kind: "delivered" }),
    ];
    const outcome = await feedback.apply(reports);
    expect(outcome).toEqual({ matched: 4, unknown: 1, statusChanges: 3, suppressed: 2, unsubscribed: 0 });
    expect(await statusOf(delivered.messageId)).toEqual({ status: "delivered", status_details: null });
    expect(await statusOf(bounced.messageId)).toEqual({
      status: "failed",
      status_details: "PROVIDER_BOUNCED: 550 mailbox unavailable",
    });
    expect(await statusOf(soft.messageId)).toMatchObject({ status: "failed" });
    expect(await statusOf(complained.messageId)).toMatchObject({ status: "sent" });

    // The addresses as another send would give them, in another case: found all the same.
    const found = await suppressions.find([
      { channel: "email", recipient: addresses.bounced.toLowerCase() },
      { channel: "email", recipient: addresses.complained },
      { channel: "email", recipient: addresses.soft },
      { channel: "sms", recipient: addresses.bounced },
    ]);
    expect(found).toEqual(
      new Map([
        [0, "hard_bounce"],
        [1, "complaint"],
      ]),
    );

    // The same reports again, as a webhook retrying: nothing changes twice.
    expect(await feedback.apply(reports)).toEqual({
      matched: 4,
      unknown: 1,
      statusChanges: 0,
      suppressed: 0,
      unsubscribed: 0,
    });
  });

  it("finds a message by our id when the report quotes ours, among its provider's messages only", async () => {
    const address = `Bounced-${randomUUID()}@example.ru`;
    const bounced = await sent(address);
    const bounce = (messageId: string, of = provider): ProviderReport => ({
      provider: of,
      messageId,
      at: new Date(),
      kind: "failed",
      reason: "5.1.1 smtp; 550 5.1.1 user unknown",
      permanent: true,
    });
    // Another provider's report of it, an id that is not a UUID, one that no message has.
    expect(
      await feedback.apply([
        bounce(bounced.messageId, "someone-else"),
        bounce("not-a-uuid"),
        bounce(randomUUID()),
      ]),
    ).toEqual({ matched: 0, unknown: 3, statusChanges: 0, suppressed: 0, unsubscribed: 0 });
    expect(await statusOf(bounced.messageId)).toMatchObject({ status: "sent" });

    // Its provider's id and ours in one batch, each found its own way.
    const delivered = await sent(`ok-${randomUUID()}@example.ru`);
    expect(
      await feedback.apply([
        bounce(bounced.messageId),
        report(delivered.providerMessageId, { kind: "delivered" }),
      ]),
    ).toEqual({ matched: 2, unknown: 0, statusChanges: 2, suppressed: 1, unsubscribed: 0 });
    expect(await statusOf(bounced.messageId)).toEqual({
      status: "failed",
      status_details: "PROVIDER_BOUNCED: 5.1.1 smtp; 550 5.1.1 user unknown",
    });
    expect(await statusOf(delivered.messageId)).toMatchObject({ status: "delivered" });
    const found = await suppressions.find([{ channel: "email", recipient: address.toLowerCase() }]);
    expect(found).toEqual(new Map([[0, "hard_bounce"]]));
  });

  it("turns the notification type off for an unsubscribe reported by the provider", async () => {
    const userId = randomUUID();
    const message = await sent(`user-${randomUUID()}@example.ru`, userId);
    const outcome = await feedback.apply([report(message.providerMessageId, { kind: "unsubscribed" })]);
    expect(outcome.unsubscribed).toBe(1);
    const after = await preferences.get(userId);
    // No template was named: the type is the empty name the message carries.
    expect(Object.values(after.types).map((type) => type.enabled)).toEqual([false]);
  });
});
