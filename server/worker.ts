import { ensureTopics, topicConfigs } from "../consumers/index.ts";
import type { DeliveryStatsSink } from "../core/delivery-stats/index.ts";
import type { Logger } from "../core/logger.ts";
import { ClickHouseDeliveryStatsWriter } from "../stats/index.ts";
import type { Config } from "./config.ts";
import type { Infrastructure } from "./infrastructure.ts";
import type { Metrics } from "./metrics.ts";
import { sleep } from "./sleep.ts";

/**
 * The worker role. For now it provisions the Kafka topics the service owns, retrying
 * until Kafka answers, and holds the delivery stats writer the pipeline records into;
 * the intake consumers and dispatchers join it as they are built.
 */
export function startWorker(
  config: Config,
  infra: Infrastructure,
  metrics: Metrics,
  logger: Logger,
  signal: AbortSignal,
) {
  const done = provisionTopics(config, infra, logger, signal);
  const statsWriter = new ClickHouseDeliveryStatsWriter(
    infra.clickhouse,
    config.statsWriter,
    logger,
    metrics.statsWriter,
  );
  metrics.statsWriter.observeBufferedRows(() => statsWriter.state().bufferedRows);
  return {
    deliveryStats: statsWriter as DeliveryStatsSink,
    /** Stops what produces status changes first, then flushes their statistics before `deadline` (epoch ms). */
    async stop(deadline: number): Promise<void> {
      await done;
      await statsWriter.close(Math.max(0, deadline - Date.now()));
    },
  };
}

async function provisionTopics(
  config: Config,
  infra: Infrastructure,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const topics = topicConfigs(config.kafka.topicPartitions, config.kafka.replicationFactor);
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      await infra.kafkaAdmin.connect();
      const created = await ensureTopics(infra.kafkaAdmin, topics);
      logger.info({ created, topics: topics.map((topic) => topic.topic) }, "Kafka topics ready");
      return;
    } catch (error) {
      const delayMs = Math.min(attempt * 1_000, 10_000);
      logger.warn({ err: error, attempt, retryInMs: delayMs }, "Kafka topics not provisioned yet");
      await sleep(delayMs, signal);
    }
  }
}
