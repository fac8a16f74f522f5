import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import {
  runBatchConsumer,
  SchemaRegistryClient,
  statsFeed,
  statusEventReader,
  TOPICS,
} from "../consumers/index.ts";
import { ClickHouseDeliveryStatsWriter } from "../stats/index.ts";
import { loadConfig } from "./config.ts";
import { createClickHouse, createKafka, schemaRegistryUrlOf } from "./infrastructure.ts";
import { createLogger } from "./logger.ts";
import { retrying } from "./retrying.ts";
import type { StatsThreadReport, StatsThreadStop } from "./stats-feed-thread.ts";
import { CONSUMER_GROUPS, pipelineConsumer } from "./worker.ts";

// The composition root of the statistics thread (StatsFeedThread): the status events topic
// into ClickHouse, on an event loop of its own. The same environment as the process, read
// the same way.

const STATS_THREAD_NICENESS = 10;

// Statistics can wait, sends cannot: on a busy machine this thread yields the CPU to the one
// that sends. Linux keeps a nice value per thread, and /proc/thread-self names this one.
try {
  setPriority(Number(readlinkSync("/proc/thread-self").split("/").pop()), STATS_THREAD_NICENESS);
} catch {
  // Not Linux, or not allowed: the same priority as the rest of the process.
}

const port = parentPort;
if (!port) throw new Error("server/stats-thread runs as a worker thread of the worker role");
const config = loadConfig(process.env, (workerData as { role: string }).role);
const logger = createLogger(config.logLevel).child({ thread: "stats" });
const report = (message: StatsThreadReport) => port.postMessage(message);

const kafka = createKafka(config);
const clickhouse = createClickHouse(config.clickhouse);
const writer = new ClickHouseDeliveryStatsWriter(clickhouse, config.statsWriter, logger, {
  flushedRows: { inc: (value = 1) => report({ kind: "counted", counter: "flushedRows", value }) },
  failedFlushes: { inc: (value = 1) => report({ kind: "counted", counter: "failedFlushes", value }) },
  droppedRows: { inc: (value = 1) => report({ kind: "counted", counter: "droppedRows", value }) },
});
const registry = new SchemaRegistryClient({
  url: schemaRegistryUrlOf(config),
  timeoutMs: config.healthProbeTimeoutMs,
});
const consumer = pipelineConsumer(kafka, config, CONSUMER_GROUPS.stats);
const stopping = new AbortController();
const buffered = setInterval(() => report({ kind: "buffered", rows: writer.state().bufferedRows }), 1_000);

const joined = retrying(`the consumer group ${CONSUMER_GROUPS.stats}`, logger, stopping.signal, () =>
  runBatchConsumer(
    {
      consumer,
      topics: [TOPICS.events],
      // A chunk of statistics is one ClickHouse insert, which takes thousands of rows as cheaply as a few.
      chunkSize: config.statsWriter.batchRows,
      // Every partition at once, so that their chunks wait for the same insert, not in turns.
      partitionsConcurrently: config.kafka.topicPartitions,
      logger: logger.child({ component: "stats-feed" }),
      signal: stopping.signal,
    },
    statsFeed({
      read: statusEventReader(registry),
      writer,
      logger: logger.child({ component: "stats-feed" }),
    }),
  ),
).then(() => {
  if (!stopping.signal.aborted) report({ kind: "consuming" });
});

port.on("message", async (message: StatsThreadStop) => {
  if (message.kind !== "stop" || stopping.signal.aborted) return;
  stopping.abort();
  // Never joins after this: a membership outliving the thread would hold up the next join.
  await joined;
  await consumer.disconnect().catch(() => undefined);
  await writer.close(Math.max(0, message.deadline - Date.now()));
  await clickhouse.close().catch(() => undefined);
  clearInterval(buffered);
  report({ kind: "stopped" });
  port.close();
});
