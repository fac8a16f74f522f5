import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { type Consumer, Kafka, logLevel, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboxRelay } from "../../consumers/index.ts";
import type { OutboxEvent } from "../../core/sending/index.ts";
import { createOrm } from "../../server/infrastructure.ts";
import { createLogger } from "../../server/logger.ts";
import { PostgresOutboxFeed, PostgresUnitOfWork } from "../../storage/index.ts";
import { testCipher } from "../support/recipient-cipher.ts";
import { localServices } from "../support/services.ts";

// The transactional outbox against the real PostgreSQL and Kafka: what commits is published,
// in order, once; what rolls back never is; a Kafka failure loses nothing.
const topic = `test.outbox.${randomUUID()}`;
const kafka = new Kafka({
  clientId: "outbox-test",
  brokers: localServices().kafkaBrokers,
  logLevel: logLevel.ERROR,
});
const logger = createLogger("silent");
let producer: Producer;
let consumer: Consumer;
const received: { key: string; value: string; kind: string }[] = [];

const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 6 }, logger);
const unitOfWork = new PostgresUnitOfWork(orm, testCipher());
const feed = new PostgresOutboxFeed(orm);

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  consumer = kafka.consumer({ groupId: `outbox-test-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      received.push({
        key: message.key?.toString() ?? "",
        value: message.value?.toString() ?? "",
        kind: message.headers?.ce_type?.toString() ?? "",
      });
    },
  });
});

afterAll(async () => {
  await consumer?.disconnect();
  await producer?.disconnect();
  await orm.close(true);
});

const event = (key: string, value: string): OutboxEvent => ({
  topic,
  key,
  value: Buffer.from(value),
  headers: { ce_type: "com.platform.notification.message.status.updated.v1" },
});

async function drain(relay: OutboxRelay): Promise<void> {
  while ((await relay.publishOnce()) > 0) {}
}

async function receivedCount(count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(received.length).toBe(count);
}

describe("the transactional outbox and its relay", () => {
  it("publishes what committed, in order, and never what rolled back", async () => {
    await unitOfWork.run((tx) =>
      tx.outbox.enqueue([event("m-1", "queued"), event("m-1", "sent"), event("m-2", "queued")]),
    );
    await expect(
      unitOfWork.run(async (tx) => {
        await tx.outbox.enqueue([event("m-3", "never")]);
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    await drain(new OutboxRelay(feed, producer, { batchSize: 100, idleMs: 50, logger }));
    await receivedCount(3);
    expect(received.filter((each) => each.key === "m-1").map((each) => each.value)).toEqual([
      "queued",
      "sent",
    ]);
    expect(received.map((each) => each.value)).not.toContain("never");
    expect(new Set(received.map((each) => each.kind))).toEqual(
      new Set(["com.platform.notification.message.status.updated.v1"]),
    );
  });

  it("keeps a batch Kafka refused, and publishes it once Kafka takes it", async () => {
    const before = received.length;
    await unitOfWork.run((tx) => tx.outbox.enqueue([event("m-4", "queued"), event("m-4", "sent")]));
    const refusing = {
      sendBatch: async () => Promise.reject(new Error("broker not available")),
    } as unknown as Producer;
    await expect(
      new OutboxRelay(feed, refusing, { batchSize: 100, idleMs: 50, logger }).publishOnce(),
    ).rejects.toThrow("broker not available");
    await drain(new OutboxRelay(feed, producer, { batchSize: 100, idleMs: 50, logger }));
    await receivedCount(before + 2);
    expect(received.slice(before).map((each) => each.value)).toEqual(["queued", "sent"]);
  });

  it("publishes events of one key that together exceed Kafka's largest batch, in order", async () => {
    const before = received.length;
    // Five of 300 KB on one partition: 1.5 MB in one batch is more than Kafka takes (1 MiB).
    const large = ["a", "b", "c", "d", "e"].map((mark) => event("m-large", mark.repeat(300 * 1024)));
    await unitOfWork.run((tx) => tx.outbox.enqueue(large));
    await drain(new OutboxRelay(feed, producer, { batchSize: 100, idleMs: 50, logger }));
    await receivedCount(before + 5);
    expect(received.slice(before).map((each) => each.value[0])).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("holds an event that waits for its time, leaves it out of what the committing process publishes, and publishes it when due", async () => {
    const before = received.length;
    const told: string[] = [];
    unitOfWork.afterCommit((committed) =>
      told.push(...committed.flatMap((row) => row.events.map((e) => e.key))),
    );
    const dueAt = new Date(Date.now() + 1_500);
    await unitOfWork.run((tx) =>
      tx.outbox.enqueue([
        { ...event("later-1", "retry"), notBefore: dueAt },
        event("now-1", "queued"),
        { ...event("later-2", "retry"), notBefore: dueAt },
      ]),
    );
    expect(told).toEqual(["now-1"]);
    const relay = new OutboxRelay(feed, producer, { batchSize: 100, idleMs: 50, logger });
    await drain(relay);
    await receivedCount(before + 1);
    expect(received.at(-1)?.key).toBe("now-1");
    while (Date.now() < dueAt.getTime()) {
      expect(await relay.publishOnce()).toBe(0);
      await new Promise((r) => setTimeout(r, 200));
    }
    await drain(relay);
    await receivedCount(before + 3);
    // Keys of their own land on partitions of their own: no order between them.
    expect(
      received
        .slice(before + 1)
        .map((each) => each.key)
        .sort(),
    ).toEqual(["later-1", "later-2"]);
  });

  it("publishes each event once, in order per key, with several relays running", async () => {
    const before = received.length;
    const keys = ["a", "b", "c", "d"];
    for (let step = 0; step < 50; step++) {
      await unitOfWork.run((tx) => tx.outbox.enqueue(keys.map((key) => event(`k-${key}`, String(step)))));
    }
    const stop = new AbortController();
    const relays = [1, 2, 3].map(
      () => new OutboxRelay(feed, producer, { batchSize: 17, idleMs: 20, logger }),
    );
    const running = relays.map((relay) => relay.run(stop.signal));
    await receivedCount(before + 200);
    stop.abort();
    await Promise.all(running);
    for (const key of keys) {
      const values = received
        .slice(before)
        .filter((each) => each.key === `k-${key}`)
        .map((each) => Number(each.value));
      expect(values).toEqual(Array.from({ length: 50 }, (_, step) => step));
    }
  });
});
