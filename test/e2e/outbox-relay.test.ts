import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { type Consumer, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrm } from "../../server/infrastructure.ts";
import { createLogger } from "../../server/logger.ts";
import { packEvents } from "../../storage/index.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { localServices } from "../support/services.ts";

// The worker role of the built service relays what the pipeline leaves in the outbox.
const topic = `test.outbox-relay.${randomUUID()}`;
const kafka = new Kafka({
  clientId: "outbox-relay-e2e",
  brokers: localServices().kafkaBrokers,
  logLevel: logLevel.ERROR,
});
let service: ServiceProcess;
let consumer: Consumer;
let orm: MikroORM;
const received: string[] = [];

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  consumer = kafka.consumer({ groupId: `outbox-relay-e2e-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      received.push(`${message.key?.toString()}=${message.value?.toString()}`);
    },
  });
  orm = createOrm({ url: localServices().databaseUrl, poolMax: 2 }, createLogger("silent"));
  service = await startServiceProcess({ role: "worker" });
});

afterAll(async () => {
  await consumer?.disconnect();
  await orm?.close(true);
  await service?.stop();
});

describe("the worker's outbox relay", () => {
  it("publishes events committed to the outbox, in order, and leaves the outbox empty of them", async () => {
    // A row of one event, as the migration folded those waiting, then a row of a transaction's two.
    const rows = [["queued"], ["sent", "delivered"]];
    for (const values of rows) {
      await orm.em
        .fork()
        .getConnection()
        .execute("INSERT INTO notification_outbox (topic, events, event_count) VALUES (?, ?, ?)", [
          topic,
          packEvents(values.map((value) => ({ topic, key: "m-1", headers: {}, value: Buffer.from(value) }))),
          values.length,
        ]);
    }
    expect(await eventually(async () => received.length >= 3, 20_000), service.output()).toBe(true);
    expect(received).toEqual(rows.flat().map((value) => `m-1=${value}`));
    const left = await orm.em
      .fork()
      .getConnection()
      .execute<{ count: string }[]>("SELECT count(*) FROM notification_outbox WHERE topic = ?", [topic]);
    expect(Number(left[0]?.count)).toBe(0);
  });

  it("stops on SIGTERM with the relay running, within the shutdown bound", async () => {
    const stopped = await service.stop();
    expect(stopped.code, service.output()).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);
  });
});
