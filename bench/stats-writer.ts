// How many delivery statistics rows a second the stats writer sustains into ClickHouse
// (locally: the chdb front, one engine, queries one at a time), and the memory it holds
// doing so, with the service's defaults (5,000-row batches, a 100,000-row bound).
// `npm run bench:stats` (ROWS=… for more; BATCH_ROWS=…, MAX_BUFFERED_ROWS=… to compare).
import { randomUUID } from "node:crypto";
import { ClickHouseLogLevel, createClient } from "@clickhouse/client";
import type { DeliveryStatsRow } from "../core/delivery-stats/index.ts";
import { clickhouseMigrations } from "../migrations/index.ts";
import { createLogger } from "../server/logger.ts";
import { ClickHouseDeliveryStatsWriter, migrateClickHouse } from "../stats/index.ts";

const url = process.env.CLICKHOUSE_URL ?? "http://127.0.0.1:58123";
const rows = Number(process.env.ROWS ?? 300_000);
const batchRows = Number(process.env.BATCH_ROWS ?? 5_000);
const maxBufferedRows = Number(process.env.MAX_BUFFERED_ROWS ?? 100_000);
const database = `bench_stats_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
const log = { level: ClickHouseLogLevel.OFF };
const logger = createLogger("silent");

const admin = createClient({ url, log });
await admin.command({ query: `CREATE DATABASE ${database}` });
const client = createClient({ url, database, log, request_timeout: 60_000 });
try {
  await migrateClickHouse(client, clickhouseMigrations, logger);
  const statuses: DeliveryStatsRow["status"][] = ["queued", "sent", "delivered", "opened"];
  const templates = ["welcome", "order_confirmed", "password_reset", "weekly_digest"];
  const channels: DeliveryStatsRow["channel"][] = ["email", "sms", "push_fcm", "in_app"];
  const base = Date.UTC(2026, 10, 30);
  const makeRow = (i: number): DeliveryStatsRow => ({
    occurredAt: new Date(base + i),
    messageId: randomUUID(),
    requestId: `req-${i >> 2}`,
    userId: `user-${i % 50_000}`,
    channel: channels[i % 4] ?? "email",
    status: statuses[i % 4] ?? "sent",
    templateName: templates[(i >> 3) % 4] ?? "welcome",
    templateVersion: 1 + (i % 3),
    language: i % 2 ? "ru" : "en",
    provider: "smtp",
    priority: "normal",
    latencyMs: i % 900,
  });

  const writer = new ClickHouseDeliveryStatsWriter(
    client,
    { batchRows, flushIntervalMs: 1_000, maxBufferedRows, retryInitialMs: 200, retryMaxMs: 5_000 },
    logger,
  );
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let peakHeap = heapBefore;
  let peakRss = process.memoryUsage().rss;
  let peakBuffered = 0;
  let waited = 0;
  const sampler = setInterval(() => {
    const memory = process.memoryUsage();
    peakHeap = Math.max(peakHeap, memory.heapUsed);
    peakRss = Math.max(peakRss, memory.rss);
    peakBuffered = Math.max(peakBuffered, writer.state().bufferedRows);
  }, 20);
  const started = performance.now();
  for (let i = 0; i < rows; i++) {
    const recorded = writer.record(makeRow(i));
    // The fast path returns an already settled promise; count the times the bound made us wait.
    if (writer.state().waitingCallers > 0) {
      waited++;
      await recorded;
    }
  }
  const recordedMs = performance.now() - started;
  await writer.flush();
  const totalMs = performance.now() - started;
  clearInterval(sampler);
  const { failedFlushes, flushedRows } = writer.state();
  await writer.close(10_000);
  const result = await client.query({
    query: "SELECT count() AS n FROM notification_delivery_stats",
    format: "JSONEachRow",
  });
  const [{ n } = { n: "0" }] = await result.json<{ n: string }>();

  // What a held row costs once garbage is collected: the bound filled against a
  // ClickHouse that is not there (nothing listens on port 1), so nothing drains.
  const unreachable = createClient({ url: "http://127.0.0.1:1", log });
  const held = new ClickHouseDeliveryStatsWriter(
    unreachable,
    { batchRows, flushIntervalMs: 1_000, maxBufferedRows, retryInitialMs: 60_000, retryMaxMs: 60_000 },
    logger,
  );
  global.gc?.();
  const heapEmpty = process.memoryUsage().heapUsed;
  for (let i = 0; i < maxBufferedRows; i++) void held.record(makeRow(i));
  await new Promise((resolve) => setTimeout(resolve, 200));
  global.gc?.();
  const heapFull = process.memoryUsage().heapUsed;
  await held.close(0);
  await unreachable.close();

  const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  console.log(
    `stats writer into ${url} (JSONEachRow, ${batchRows}-row batches, bound ${maxBufferedRows} rows)`,
  );
  console.log(
    `  rows:              ${rows} recorded, ${flushedRows} flushed, ${n} stored, ${failedFlushes} failed flushes`,
  );
  console.log(
    `  sustained:         ${Math.round(rows / (totalMs / 1000))} rows/s (${(totalMs / 1000).toFixed(2)} s, all written)`,
  );
  console.log(
    `  recording:         ${(recordedMs / 1000).toFixed(2)} s; the bound made the caller wait ${waited} times`,
  );
  console.log(`  peak buffered:     ${peakBuffered} rows`);
  console.log(`  peak heap growth:  ${mb(peakHeap - heapBefore)} (garbage not yet collected included)`);
  console.log(`  peak RSS:          ${mb(peakRss)}`);
  console.log(
    `  held at the bound: ${mb(heapFull - heapEmpty)} after GC for ${maxBufferedRows} rows (${Math.round((heapFull - heapEmpty) / maxBufferedRows)} bytes per row)`,
  );
} finally {
  await client.close();
  await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await admin.close();
}
