import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import { StructuredStatusEvents } from "../../../consumers/index.ts";
import type { DispatchJob } from "../../../core/sending/index.ts";
import { Dispatcher, ProviderRegistry, SinkProvider } from "../../../dispatch/index.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { PostgresUnitOfWork, unpackEvents } from "../../../storage/index.ts";
import { testCipher } from "../../support/recipient-cipher.ts";
import { localServices } from "../../support/services.ts";

// The dispatcher over the real unit of work: which provider is tried, what is recorded, what is told.
const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 4 }, createLogger("silent"));
const unitOfWork = new PostgresUnitOfWork(orm, testCipher());
afterAll(() => orm.close(true));

const requestId = `dispatcher-${randomUUID()}`;

async function queued(overrides: Partial<DispatchJob["message"]> = {}): Promise<DispatchJob> {
  const messageId = randomUUID();
  await unitOfWork.run((tx) =>
    tx.messages.append([
      {
        messageId,
        requestId,
        channel: "email",
        recipient: "ivan@example.com",
        priority: "normal",
        status: "queued",
        requestedAt: new Date(),
      },
    ]),
  );
  return {
    message: {
      messageId,
      destination: { channel: "email", email: "ivan@example.com" },
      subject: "S",
      body: "B",
      bodyHtml: "",
      priority: "normal",
      ...overrides,
    },
    event: {
      messageId,
      requestId,
      channel: "email",
      templateName: "t",
      templateVersion: 1,
      attempt: 0,
      acceptedAt: new Date(),
      priority: "normal",
    },
  };
}

async function logged(messageId: string) {
  const [row] = await orm.em
    .fork()
    .getConnection()
    .execute<
      { status: string; provider_name: string | null; status_details: string | null; attempts: number }[]
    >("SELECT status, provider_name, status_details, attempts FROM notification_message_log WHERE id = ?", [
      messageId,
    ]);
  return row;
}

async function outboxOf(messageId: string): Promise<Record<string, unknown>[]> {
  const rows = await orm.em
    .fork()
    .getConnection()
    .execute<{ topic: string; events: Buffer }[]>(
      "SELECT topic, events FROM notification_outbox ORDER BY id",
    );
  return rows
    .flatMap((row) => unpackEvents(row.topic, row.events))
    .filter((event) => event.key === messageId)
    .map(
      (event) => (JSON.parse(Buffer.from(event.value).toString()) as { data: Record<string, unknown> }).data,
    );
}

function dispatcher(providers: SinkProvider[]) {
  return new Dispatcher({
    unitOfWork,
    providers: new ProviderRegistry(providers),
    statusEvents: new StructuredStatusEvents(),
    concurrency: 4,
  });
}

describe("Dispatcher", () => {
  it("fails over past a provider that is down, and records who sent it, with its status event", async () => {
    const down = new SinkProvider({ name: "down", failRate: 1, failRetryable: true });
    const up = new SinkProvider({ name: "up" });
    const job = await queued();
    const report = await dispatcher([down, up]).dispatch([job]);
    expect(report.outcomes.map((each) => each.outcome)).toEqual(["sent"]);
    expect(await logged(job.message.messageId)).toMatchObject({
      status: "sent",
      provider_name: "up",
      attempts: 1,
    });
    expect(up.sent().map((record) => record.messageId)).toEqual([job.message.messageId]);
    expect(await outboxOf(job.message.messageId)).toMatchObject([
      { status: "sent", provider: "up", attempt: 2 },
    ]);
  });

  it("stops at a refusal, fails a message no provider serves, and expires one past its time", async () => {
    const refusing = new SinkProvider({ name: "refusing", failRate: 1, failRetryable: false });
    const never = new SinkProvider({ name: "never-asked" });
    const refused = await queued();
    const late = await queued({ expiresAt: new Date(Date.now() - 1_000) });
    await dispatcher([refusing, never]).dispatch([refused, late]);
    expect(await logged(refused.message.messageId)).toMatchObject({
      status: "failed",
      provider_name: "refusing",
      status_details: "PROVIDER_REFUSED: the sink was told to fail",
    });
    expect(never.sent()).toEqual([]);
    expect(await logged(late.message.messageId)).toMatchObject({
      status: "expired",
      status_details: "TTL_EXPIRED",
    });

    const unserved = await queued({ destination: { channel: "sms", phone: "+79991234567" } });
    await dispatcher([new SinkProvider({ name: "email-only", channels: ["email"] })]).dispatch([
      { ...unserved, event: { ...unserved.event, channel: "sms" } },
    ]);
    expect(await logged(unserved.message.messageId)).toMatchObject({
      status: "failed",
      status_details: expect.stringMatching(/^NO_PROVIDER/),
    });
  });

  it("skips a job whose message is no longer queued: a redelivered job is not sent twice", async () => {
    const sink = new SinkProvider({ name: "once" });
    const job = await queued();
    await dispatcher([sink]).dispatch([job]);
    const again = await dispatcher([sink]).dispatch([job]);
    expect(again.outcomes.map((each) => each.outcome)).toEqual(["skipped_not_queued"]);
    expect(await outboxOf(job.message.messageId)).toHaveLength(1);
  });
});
