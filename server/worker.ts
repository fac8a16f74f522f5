import { ensureTopics, topicConfigs } from "../consumers/index.ts";
import type { Logger } from "../core/logger.ts";
import type { Config } from "./config.ts";
import type { Infrastructure } from "./infrastructure.ts";
import { sleep } from "./sleep.ts";

/**
 * The worker role. For now it provisions the Kafka topics the service owns, retrying
 * until Kafka answers; the intake consumers and dispatchers join it as they are built.
 */
export function startWorker(config: Config, infra: Infrastructure, logger: Logger, signal: AbortSignal) {
  const done = provisionTopics(config, infra, logger, signal);
  return {
    async stop(): Promise<void> {
      await done;
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
