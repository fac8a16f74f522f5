import type { Producer } from "kafkajs";
import { ensureTopics, OutboxRelay, topicConfigs } from "../consumers/index.ts";
import type { DeliveryStatsSink } from "../core/delivery-stats/index.ts";
import type { Logger } from "../core/logger.ts";
import { ClickHouseDeliveryStatsWriter } from "../stats/index.ts";
import { PostgresOutboxFeed } from "../storage/index.ts";
import type { Config } from "./config.ts";
import type { Infrastructure } from "./infrastructure.ts";
import type { Metrics } from "./metrics.ts";
import { sleep } from "./sleep.ts";

/**
 * The worker role: provisions the Kafka topics the service owns, then relays the outbox's
 * events to Kafka, each step retried until Kafka answers; it holds the delivery stats writer
 * the pipeline records into. The intake consumers and the dispatchers join it as they are built.
 */
export function startWorker(
  config: Config,
  infra: Infrastructure,
  metrics: Metrics,
  logger: Logger,
  signal: AbortSignal,
) {
  // Idempotent, one request in flight: a retried batch is neither doubled nor reordered.
  const producer = infra.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const relay = new OutboxRelay(new PostgresOutboxFeed(infra.orm), producer, {
    ...config.outbox,
    logger: logger.child({ component: "outbox-relay" }),
  });
  const statsWriter = new ClickHouseDeliveryStatsWriter(
    infra.clickhouse,
    config.statsWriter,
    logger,
    metrics.statsWriter,
  );
  metrics.statsWriter.observeBufferedRows(() => statsWriter.state().bufferedRows);
  const topics = topicConfigs(config.kafka.topicPartitions, config.kafka.replicationFactor);
  const done = (async () => {
    await retrying("Kafka topics", logger, signal, async () => {
      await infra.kafkaAdmin.connect();
      const created = await ensureTopics(infra.kafkaAdmin, topics);
      logger.info({ created, topics: topics.map((topic) => topic.topic) }, "Kafka topics ready");
    });
    await retrying("the outbox relay's producer", logger, signal, () => producer.connect());
    await relay.run(signal);
  })();
  return {
    deliveryStats: statsWriter as DeliveryStatsSink,
    /** Stops what produces status changes first, then flushes their statistics before `deadline` (epoch ms). */
    async stop(deadline: number): Promise<void> {
      await done;
      await disconnect(producer, logger);
      await statsWriter.close(Math.max(0, deadline - Date.now()));
    },
  };
}

/** Runs `work` until it succeeds or `signal` aborts, waiting longer after each failure. */
async function retrying(what: string, logger: Logger, signal: AbortSignal, work: () => Promise<void>) {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      await work();
      return;
    } catch (error) {
      const delayMs = Math.min(attempt * 1_000, 10_000);
      logger.warn({ err: error, attempt, retryInMs: delayMs }, `${what} not ready yet`);
      await sleep(delayMs, signal);
    }
  }
}

async function disconnect(producer: Producer, logger: Logger): Promise<void> {
  try {
    await producer.disconnect();
  } catch (error) {
    logger.warn({ err: error }, "closing the outbox relay's producer failed");
  }
}
