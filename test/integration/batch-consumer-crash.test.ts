import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { setTimeout as pause } from "node:timers/promises";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { runBatchConsumer } from "../../consumers/index.ts";
import { createLogger } from "../../server/logger.ts";
import { testKafka } from "../support/pipeline.ts";
import { localServices } from "../support/services.ts";

interface Logged {
  level: string;
  message: string;
  groupId?: string;
  crashes?: number;
}

/** The service's own logger, its JSON lines kept. */
function capturedLogs() {
  const logged: Logged[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean))
        logged.push(JSON.parse(line) as Logged);
      done();
    },
  });
  return { logger: createLogger("info", sink), logged };
}

describe("a batch consumer whose topic goes away", () => {
  const kafka = testKafka("batch-consumer-crash-test");
  const admin = kafka.admin();
  const topic = `test.crash.${randomUUID()}`;
  const groupId = `test-crash-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });

  afterAll(async () => {
    await consumer.disconnect();
    await admin.disconnect();
  });

  it("says so in our logs when kafkajs crashes and restarts it, once per 10 s however often", async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const { logger, logged } = capturedLogs();
    const handled: string[] = [];
    await runBatchConsumer(
      {
        consumer,
        topics: [topic],
        chunkSize: 10,
        partitionsConcurrently: 2,
        logger,
        signal: new AbortController().signal,
      },
      async (chunk) => {
        for (const record of chunk.records) handled.push(String(record.value));
      },
    );
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: "k", value: "before" }] });
    await producer.disconnect();
    await expect.poll(() => handled, { timeout: 15_000 }).toEqual(["before"]);
    expect(logged.filter((each) => each.level === "warn" || each.level === "error")).toEqual([]);

    await admin.deleteTopics({ topics: [topic] });
    const crashes = () => logged.filter((each) => each.message.startsWith("the consumer crashed"));
    // kafkajs gives up on the topic's partitions after its retries, about 15 s here.
    await expect.poll(() => crashes().length, { timeout: 40_000, interval: 200 }).toBe(1);
    expect(crashes()[0]).toMatchObject({ level: "warn", groupId, crashes: 1 });
    // It crashes again every few hundred milliseconds from now on, logged no sooner than 10 s later.
    await pause(3_000);
    expect(crashes()).toHaveLength(1);
  }, 60_000);
});

describe("a batch consumer that kafkajs stops for good", () => {
  // A client that never lets kafkajs restart a crashed consumer itself, as for an error it
  // does not retry (a refused authorization), and gives up on a missing topic quickly.
  const kafka = new Kafka({
    clientId: "batch-consumer-stopped-test",
    brokers: localServices().kafkaBrokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 100, restartOnFailure: async () => false },
  });
  const admin = kafka.admin();
  const topic = `test.stopped.${randomUUID()}`;
  const consumer = kafka.consumer({ groupId: `test-stopped-${randomUUID()}`, maxWaitTimeInMs: 50 });
  const stopping = new AbortController();

  afterAll(async () => {
    stopping.abort();
    await consumer.disconnect();
    await admin.disconnect();
  });

  it("is started again by us, with longer waits while it cannot start, and consumes once it can", async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const { logger, logged } = capturedLogs();
    const handled: string[] = [];
    const send = async (value: string) => {
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: [{ key: "k", value }] });
      await producer.disconnect();
    };
    await runBatchConsumer(
      {
        consumer,
        topics: [topic],
        chunkSize: 10,
        partitionsConcurrently: 1,
        logger,
        signal: stopping.signal,
        restartDelayMs: 500,
      },
      async (chunk) => {
        for (const record of chunk.records) handled.push(String(record.value));
      },
    );
    await send("before");
    await expect.poll(() => handled, { timeout: 15_000 }).toEqual(["before"]);

    await admin.deleteTopics({ topics: [topic] });
    const lines = (message: string) => logged.filter((each) => each.message.startsWith(message));
    await expect
      .poll(() => lines("the consumer crashed and kafkajs stopped it").length, {
        timeout: 40_000,
        interval: 200,
      })
      .toBe(1);
    // Without its topic it cannot start: each try fails and is logged, and the next waits longer.
    await expect
      .poll(() => lines("starting the consumer again failed").length, { timeout: 20_000, interval: 200 })
      .toBeGreaterThanOrEqual(1);
    expect(lines("the consumer stopped by a crash is consuming again")).toEqual([]);

    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await expect
      .poll(() => lines("the consumer stopped by a crash is consuming again").length, {
        timeout: 40_000,
        interval: 200,
      })
      .toBe(1);
    await send("after");
    await expect.poll(() => handled, { timeout: 20_000 }).toEqual(["before", "after"]);
  }, 120_000);
});
