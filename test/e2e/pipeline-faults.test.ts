import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_ENV } from "../support/credentials.ts";
import {
  createActiveTemplate,
  pipelineEnv,
  publish,
  sinkRecords,
  structuredSendRequest,
  testClickHouse,
  testKafka,
  testOrm,
} from "../support/pipeline.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { localService } from "../support/services.ts";

// The pipeline under faults: a worker killed mid-batch, ClickHouse gone for a while.
const run = randomUUID().slice(0, 8);
const template = `faults_${run}`;
const sinkFile = join(mkdtempSync(join(tmpdir(), "faults-")), "sink.jsonl");
const env = {
  ...AUTH_ENV,
  ...pipelineEnv(sinkFile),
  // A killed worker's partitions go to the survivor after this long.
  KAFKA_SESSION_TIMEOUT_MS: "6000",
  STATS_RETRY_MAX_MS: "500",
};
const kafka = testKafka("pipeline-faults-e2e");
const clickhouse = testClickHouse();
let first: ServiceProcess;
let second: ServiceProcess;
let producer: Producer;
let orm: MikroORM;

beforeAll(async () => {
  [first, second] = await Promise.all([
    startServiceProcess({ env }),
    startServiceProcess({ role: "worker", env }),
  ]);
  producer = kafka.producer();
  await producer.connect();
  orm = testOrm();
  await createActiveTemplate(first.httpUrl, template, [
    { language_code: "ru", subject: "Тема {{n}}", body: "Текст {{n}}", body_html: "" },
  ]);
});

afterAll(async () => {
  localService("up", "clickhouse");
  await producer?.disconnect();
  await orm?.close(true);
  await clickhouse.close();
  await Promise.all([first?.stop(), second?.stop().catch(() => undefined)]);
});

/** `count` requests of one correlation id, one email each, published in batches. */
async function publishRequests(correlationId: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, count - start) }, (_, offset) => {
      const n = start + offset;
      return {
        key: `${correlationId}-${n}`,
        value: structuredSendRequest({
          requestId: `${correlationId}-${n}`,
          recipients: [{ emailTo: `user-${n}@example.com` }],
          templateName: template,
          payloadVariables: { n },
          deliveryOptions: { channels: ["email"] },
          correlationId,
        }),
      };
    });
    await publish(producer, batch);
  }
}

async function countByStatus(correlationId: string): Promise<Record<string, number>> {
  const rows = await orm.em
    .fork()
    .getConnection()
    .execute<{ status: string; count: string }[]>(
      "SELECT status, count(*) AS count FROM notification_message_log WHERE correlation_id = ? GROUP BY status",
      [correlationId],
    );
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}

describe("the send pipeline under faults", () => {
  it("loses nothing when one of two workers is SIGKILLed mid-batch of 10,000, and repeats only what was in flight", async () => {
    const correlationId = `kill-${run}`;
    await publishRequests(correlationId, 10_000);
    const started = await eventually(
      async () => ((await countByStatus(correlationId)).sent ?? 0) >= 1_500,
      60_000,
    );
    expect(started, second.output().slice(-3000)).toBe(true);
    second.child.kill("SIGKILL");
    const done = await eventually(async () => (await countByStatus(correlationId)).sent === 10_000, 120_000);
    expect(
      done,
      `${JSON.stringify(await countByStatus(correlationId))}\n${first.output().slice(-3000)}`,
    ).toBe(true);
    expect(await countByStatus(correlationId)).toEqual({ sent: 10_000 });

    const ids = await orm.em
      .fork()
      .getConnection()
      .execute<{ id: string }[]>("SELECT id FROM notification_message_log WHERE correlation_id = ?", [
        correlationId,
      ]);
    const logged = new Set(ids.map((row) => row.id));
    const sunk = sinkRecords(sinkFile).filter((record) => logged.has(record.messageId));
    const distinct = new Set(sunk.map((record) => record.messageId));
    // Every message reached the sink, each under the one id its claim gave it.
    expect(distinct.size).toBe(10_000);
    const repeats = sunk.length - distinct.size;
    // Repeats only for what was in flight in the killed worker: at most its dispatch chunks.
    expect(repeats).toBeLessThanOrEqual(3 * 500);
  }, 240_000);

  it("keeps every statistic while ClickHouse is down, and writes them all once it is back", async () => {
    const correlationId = `clickhouse-${run}`;
    localService("down", "clickhouse");
    try {
      await publishRequests(correlationId, 2_000);
      expect(
        await eventually(async () => (await countByStatus(correlationId)).sent === 2_000, 60_000),
        first.output().slice(-3000),
      ).toBe(true);
      // Let the statistics' retries meet the outage for a while.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    } finally {
      localService("up", "clickhouse");
    }
    const counted = async () => {
      const result = await clickhouse.query({
        query:
          "SELECT uniqExact(message_id) AS sent FROM notification_delivery_stats WHERE status = 'sent' AND request_id LIKE {prefix:String}",
        query_params: { prefix: `${correlationId}-%` },
        format: "JSONEachRow",
      });
      return Number((await result.json<{ sent: number | string }>())[0]?.sent ?? 0);
    };
    expect(
      await eventually(async () => (await counted()) === 2_000, 60_000),
      first.output().slice(-3000),
    ).toBe(true);
  }, 180_000);
});
