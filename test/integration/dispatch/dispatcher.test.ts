import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import { SealedDispatchQueue, StructuredStatusEvents } from "../../../consumers/index.ts";
import type { DeliveryOutcome, DispatchJob, Provider } from "../../../core/sending/index.ts";
import {
  Dispatcher,
  type DispatcherDeps,
  ProviderGates,
  ProviderRegistry,
  SinkProvider,
} from "../../../dispatch/index.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { PostgresUnitOfWork, unpackEvents } from "../../../storage/index.ts";
import { testCipher } from "../../support/recipient-cipher.ts";
import { localServices } from "../../support/services.ts";

// The dispatcher over the real unit of work: which provider is tried, what is recorded, what is told.
const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 4 }, createLogger("silent"));
const unitOfWork = new PostgresUnitOfWork(orm, testCipher());
const queue = new SealedDispatchQueue(testCipher());
const startedAt = new Date();
afterAll(async () => {
  // Jobs this file sent back to wait would reach the dispatch topics of later tests, sealed with the test key.
  await orm.em
    .fork()
    .getConnection()
    .execute("DELETE FROM notification_outbox WHERE publish_after IS NOT NULL AND enqueued_at >= ?", [
      startedAt,
    ]);
  await orm.close(true);
});

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

function dispatcher(providers: Provider[], options: Partial<DispatcherDeps> = {}) {
  return new Dispatcher({
    unitOfWork,
    providers: new ProviderRegistry(providers),
    statusEvents: new StructuredStatusEvents(),
    queue,
    concurrency: 4,
    ...options,
  });
}

/** The jobs waiting in the outbox for their next round, with the time each waits for. */
async function waitingJobs(messageId: string): Promise<{ job: DispatchJob; notBefore: Date }[]> {
  const rows = await orm.em
    .fork()
    .getConnection()
    .execute<{ topic: string; events: Buffer; publish_after: Date }[]>(
      "SELECT topic, events, publish_after FROM notification_outbox WHERE publish_after IS NOT NULL ORDER BY id",
    );
  return rows.flatMap((row) =>
    unpackEvents(row.topic, row.events).flatMap((record) =>
      queue
        .decode(record.key, record.value)
        .filter((job) => job.message.messageId === messageId)
        .map((job) => ({ job, notBefore: new Date(row.publish_after) })),
    ),
  );
}

/** A provider that counts what it was asked, answering as `answer` says. */
function counting(name: string, answer: () => DeliveryOutcome) {
  const asked: string[] = [];
  const provider: Provider = {
    name,
    channels: ["email"],
    async send(message) {
      asked.push(message.messageId);
      return answer();
    },
    async close() {},
  };
  return { provider, asked };
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

  it("keeps a message queued while every provider is down, notes the tries, and brings its job back after a wait", async () => {
    const job = await queued();
    const before = Date.now();
    const report = await dispatcher(
      [
        new SinkProvider({ name: "down-1", failRate: 1, failRetryable: true }),
        new SinkProvider({ name: "down-2", failRate: 1, failRetryable: true }),
      ],
      { retry: { initialMs: 4_000, maxMs: 60_000, giveUpAfterMs: 3_600_000 }, random: () => 0.5 },
    ).dispatch([job]);
    expect(report.outcomes).toMatchObject([{ outcome: "deferred", reason: "PROVIDER_UNAVAILABLE" }]);
    expect(await logged(job.message.messageId)).toMatchObject({
      status: "queued",
      provider_name: "down-2",
      attempts: 2,
    });
    expect(await outboxOf(job.message.messageId)).toEqual([]);
    const [waiting, ...more] = await waitingJobs(job.message.messageId);
    expect(more).toEqual([]);
    expect(waiting?.job.retry).toEqual({ round: 1, firstFailedAt: expect.any(Number) });
    expect(waiting?.job.event.attempt).toBe(2);
    // 4 s at round 1, three quarters of it with this random, up to the next whole second.
    const waitedMs = (waiting?.notBefore.getTime() ?? 0) - before;
    expect(waitedMs).toBeGreaterThanOrEqual(3_000);
    expect(waitedMs).toBeLessThanOrEqual(4_000 + 1_000);

    // Back, it goes out through the provider that has recovered, with the tries of both rounds counted.
    const back = waiting?.job as DispatchJob;
    await dispatcher([new SinkProvider({ name: "recovered" })]).dispatch([back]);
    expect(await logged(job.message.messageId)).toMatchObject({
      status: "sent",
      provider_name: "recovered",
      attempts: 3,
    });
    expect(await outboxOf(job.message.messageId)).toMatchObject([{ status: "sent", attempt: 3 }]);
  });

  it("brings a job back at its expiry when its next round would be later, and fails one without a time to live once it waited too long", async () => {
    const down = () => new SinkProvider({ name: "down", failRate: 1, failRetryable: true });
    const retry = { initialMs: 60_000, maxMs: 60_000, giveUpAfterMs: 3_600_000 };
    const expiresAt = new Date(Date.now() + 2_000);
    const soon = await queued({ expiresAt });
    await dispatcher([down()], { retry }).dispatch([soon]);
    const [waiting] = await waitingJobs(soon.message.messageId);
    expect(waiting?.notBefore.getTime()).toBe(Math.ceil(expiresAt.getTime() / 1000) * 1000);
    await dispatcher([down()], { retry, now: () => new Date(expiresAt.getTime() + 1) }).dispatch([
      waiting?.job as DispatchJob,
    ]);
    expect(await logged(soon.message.messageId)).toMatchObject({
      status: "expired",
      status_details: "TTL_EXPIRED",
    });

    const forever = await queued();
    await dispatcher([down()], { retry }).dispatch([
      { ...forever, retry: { round: 9, firstFailedAt: Date.now() - 3_600_000 } },
    ]);
    expect(await logged(forever.message.messageId)).toMatchObject({
      status: "failed",
      status_details: "PROVIDER_UNAVAILABLE: the sink was told to fail",
    });
    expect(await waitingJobs(forever.message.messageId)).toEqual([]);
  });

  it("stops asking a provider whose breaker opened, and asks it again once its probe may go", async () => {
    let now = Date.now();
    const gates = new ProviderGates({ breaker: { failuresToOpen: 2, openMs: 10_000 }, now: () => now });
    let primaryUp = false;
    const primary = counting("primary", () =>
      primaryUp
        ? { status: "sent", providerMessageId: "p" }
        : { status: "failed", reason: "503 Service Unavailable", retryable: true },
    );
    const secondary = counting("secondary", () => ({ status: "sent", providerMessageId: "s" }));
    const send = (jobs: DispatchJob[]) =>
      dispatcher([primary.provider, secondary.provider], { gates, concurrency: 1 }).dispatch(jobs);
    const jobs = await Promise.all(Array.from({ length: 5 }, () => queued()));
    await send(jobs);
    expect(primary.asked).toHaveLength(2);
    expect(secondary.asked).toHaveLength(5);
    expect(gates.states()).toEqual(
      expect.arrayContaining([
        { provider: "primary", state: "open" },
        { provider: "secondary", state: "closed" },
      ]),
    );

    primaryUp = true;
    now += 10_000;
    const later = await Promise.all(Array.from({ length: 3 }, () => queued()));
    await send(later);
    expect(primary.asked).toHaveLength(5);
    expect(secondary.asked).toHaveLength(5);
    expect(await logged((later[2] as DispatchJob).message.messageId)).toMatchObject({
      provider_name: "primary",
    });
  });

  it("brings back a job every provider was too busy for when its slot comes, without counting a failed round", async () => {
    const busy = counting("busy", () => ({ status: "sent", providerMessageId: "b" }));
    const gates = new ProviderGates({
      byProvider: { busy: { ratePerSecond: 1 } },
      limiter: { tryAcquire: async () => 5_000 },
      maxSlotWaitMs: 100,
    });
    const job = await queued();
    const before = Date.now();
    const report = await dispatcher([busy.provider], { gates, random: () => 0.5 }).dispatch([job]);
    expect(report.outcomes).toMatchObject([{ outcome: "deferred", reason: "PROVIDER_RATE_LIMITED" }]);
    expect(busy.asked).toEqual([]);
    expect(await logged(job.message.messageId)).toMatchObject({ status: "queued", attempts: 0 });
    const [waiting] = await waitingJobs(job.message.messageId);
    expect(waiting?.job.retry?.round).toBe(0);
    const waitedMs = (waiting?.notBefore.getTime() ?? 0) - before;
    expect(waitedMs).toBeGreaterThanOrEqual(5_000);
    expect(waitedMs).toBeLessThanOrEqual(5_000 + 500 + 1_000 + 200);
  });
});
