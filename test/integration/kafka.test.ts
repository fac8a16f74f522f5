import { randomUUID } from "node:crypto";
import { type Admin, type Consumer, Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localServices } from "../support/services.ts";

// Against the real local broker (scripts/services up kafka): the properties the
// notification pipeline relies on, a consumer group that picks up exactly where its
// last committed offset left it after a restart.

interface Received {
  offset: string;
  value: string;
}

const runId = randomUUID();
const topic = `test.kafka.${runId}`;
const groupId = `test-kafka-${runId}`;

const kafka = new Kafka({
  clientId: "kafka-integration-test",
  brokers: localServices().kafkaBrokers,
  logLevel: logLevel.ERROR,
});

let admin: Admin;
let producer: Producer;
const consumers: Consumer[] = [];

function newConsumer(): Consumer {
  // disconnect() waits for the fetch in flight, which the broker holds open for up
  // to maxWaitTimeInMs when there is nothing new (5 s by default).
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  consumers.push(consumer);
  return consumer;
}

async function produce(values: string[]): Promise<void> {
  await producer.send({ topic, messages: values.map((value) => ({ value })) });
}

// Starts CONSUMER on the topic without auto-commit and resolves with the first COUNT
// messages it gets; rejects with what did arrive if they do not all come in time.
async function consume(consumer: Consumer, count: number): Promise<Received[]> {
  const received: Received[] = [];
  const { promise, resolve, reject } = Promise.withResolvers<Received[]>();
  const timer = setTimeout(
    () => reject(new Error(`expected ${count} messages in 20s, got ${JSON.stringify(received)}`)),
    20_000,
  );
  await consumer.connect();
  // fromBeginning only matters while the group has no committed offset: the first
  // consumer then reads everything, and a resumed one would visibly re-read the old
  // messages if its committed offset were ignored.
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message }) => {
      received.push({ offset: message.offset, value: message.value?.toString() ?? "" });
      if (received.length === count) {
        clearTimeout(timer);
        resolve([...received]);
      }
    },
  });
  return promise;
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  expect(created).toBe(true);
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
});

afterAll(async () => {
  await Promise.all(consumers.map((consumer) => consumer.disconnect()));
  await producer?.disconnect();
  if (admin) {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  }
});

describe("kafka consumer groups", () => {
  it("resume from the committed offset after the consumer restarts", async () => {
    const first = ["first-0", "first-1", "first-2", "first-3", "first-4"];
    await produce(first);

    const before = newConsumer();
    const consumed = await consume(before, first.length);
    expect(consumed.map((m) => m.value)).toEqual(first);
    expect(consumed.map((m) => m.offset)).toEqual(["0", "1", "2", "3", "4"]);

    // The committed offset is the next one to read, one past the last message handled.
    await before.commitOffsets([{ topic, partition: 0, offset: "5" }]);
    await before.disconnect();
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed?.partitions).toEqual([{ partition: 0, offset: "5", metadata: null }]);

    const second = ["second-0", "second-1", "second-2"];
    await produce(second);

    const after = newConsumer();
    const resumed = await consume(after, second.length);
    expect(resumed.map((m) => m.value)).toEqual(second);
    expect(resumed.map((m) => m.offset)).toEqual(["5", "6", "7"]);
  });
});
