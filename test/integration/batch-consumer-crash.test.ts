import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { setTimeout as pause } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { runBatchConsumer } from "../../consumers/index.ts";
import { createLogger } from "../../server/logger.ts";
import { testKafka } from "../support/pipeline.ts";

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
