import { setTimeout as pause } from "node:timers/promises";
import type { Consumer, KafkaMessage } from "kafkajs";
import type { Logger } from "../core/logger.ts";

export interface BatchConsumerOptions {
  consumer: Consumer;
  topics: string[];
  /** Records handed over at once; their offsets are committed once the handler resolved. */
  chunkSize: number;
  /** Partitions worked on at once within this process. */
  partitionsConcurrently: number;
  logger: Logger;
  /** Aborted when the process stops: a consumer that stopped for good is not started again after it. */
  signal: AbortSignal;
  /** The first wait before starting again a consumer that kafkajs stopped for good; doubled up to a minute. */
  restartDelayMs?: number;
  /** Told of each chunk before it is handled. */
  onChunk?: (topic: string, records: number) => void;
}

/** The records of one partition, in their order. */
export interface RecordChunk {
  topic: string;
  partition: number;
  records: KafkaMessage[];
  /** Keeps the partition ours during a long wait (more than a few seconds) inside the handler. */
  heartbeat(): Promise<void>;
}

/**
 * Runs `handle` over each partition's records in chunks, committing a chunk's offsets only
 * after `handle` resolved: a crash redelivers what was not finished, never skips it. A
 * handler that throws meets an outage of ours (PostgreSQL, Kafka), not a bad record (bad
 * records are the handler's to dead-letter): the same chunk is tried again, with longer
 * pauses, heartbeats keeping the partition ours, until it passes or the consumer stops.
 */
export async function runBatchConsumer(
  options: BatchConsumerOptions,
  handle: (chunk: RecordChunk) => Promise<void>,
): Promise<void> {
  watchCrashes(options, () => consume(options, handle));
  await consume(options, handle);
}

async function consume(options: BatchConsumerOptions, handle: (chunk: RecordChunk) => Promise<void>) {
  const { consumer, logger } = options;
  await consumer.connect();
  await consumer.subscribe({ topics: options.topics, fromBeginning: true });
  await consumer.run({
    autoCommit: true,
    autoCommitInterval: 1_000,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
      for (let start = 0; start < batch.messages.length; start += options.chunkSize) {
        if (!isRunning() || isStale()) return;
        const records = batch.messages.slice(start, start + options.chunkSize);
        const chunk = { topic: batch.topic, partition: batch.partition, records, heartbeat };
        options.onChunk?.(batch.topic, records.length);
        for (let failures = 0; ; failures++) {
          try {
            await handle(chunk);
            break;
          } catch (error) {
            // The group moves partitions: kafkajs must rejoin, which it does only once this batch
            // gives up. Trying the chunk again here would keep the whole group from settling.
            if (isRebalance(error)) throw error;
            const waitMs = Math.min(250 * 2 ** failures, 5_000);
            logger.warn(
              {
                err: error,
                topic: batch.topic,
                partition: batch.partition,
                failures: failures + 1,
                retryInMs: waitMs,
              },
              "records not handled yet, trying again",
            );
            await pause(waitMs);
            if (!isRunning() || isStale()) return;
            await heartbeat();
          }
        }
        resolveOffset((records.at(-1) as KafkaMessage).offset);
        await commitOffsetsIfNecessary();
        await heartbeat();
      }
    },
  });
}

// What the coordinator answers a member that must rejoin: kafkajs rejoins on these (its isRebalancing).
const REJOIN_ERRORS = new Set(["REBALANCE_IN_PROGRESS", "NOT_COORDINATOR_FOR_GROUP", "ILLEGAL_GENERATION"]);

function isRebalance(error: unknown): boolean {
  return REJOIN_ERRORS.has(String((error as { type?: unknown } | undefined)?.type));
}

// A consumer started again (its start failed and is retried) is watched once.
const watched = new WeakSet<Consumer>();
// A consumer that crashes again and again (its topic deleted: every 300 ms) is logged this often.
const CRASH_LOG_INTERVAL_MS = 10_000;
const LONGEST_RESTART_DELAY_MS = 60_000;

/**
 * kafkajs's own logger is off (server/infrastructure.ts): without this, a consumer that
 * crashed would restart, or stop for good, without a word in our logs. One that kafkajs
 * stopped for good (an error it does not retry: a refused authorization, say) is started
 * again here, with longer waits while it keeps failing, so its partitions do not wait for
 * the process to restart, and a fix on the broker's side is picked up by itself.
 */
function watchCrashes(options: BatchConsumerOptions, start: () => Promise<void>): void {
  const { consumer, logger, signal } = options;
  if (watched.has(consumer)) return;
  watched.add(consumer);
  let crashes = 0;
  let loggedAt = Number.NEGATIVE_INFINITY;
  let restartDelayMs = options.restartDelayMs ?? 5_000;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    restartDelayMs = options.restartDelayMs ?? 5_000;
  });
  const restart = async (groupId: string) => {
    for (;;) {
      const waitMs = restartDelayMs;
      restartDelayMs = Math.min(restartDelayMs * 2, LONGEST_RESTART_DELAY_MS);
      await pause(waitMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      try {
        await start();
        logger.info({ groupId }, "the consumer stopped by a crash is consuming again");
        return;
      } catch (error) {
        logger.error({ err: error, groupId }, "starting the consumer again failed; trying later");
      }
    }
  };
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    const { error, groupId, restart: kafkajsRestarts } = payload;
    if (!kafkajsRestarts) {
      if (signal.aborted) return;
      logger.error(
        { err: error, groupId, restartInMs: restartDelayMs },
        "the consumer crashed and kafkajs stopped it; starting it again",
      );
      void restart(groupId);
      return;
    }
    crashes++;
    if (Date.now() - loggedAt < CRASH_LOG_INTERVAL_MS) return;
    logger.warn({ err: error, groupId, crashes }, "the consumer crashed; kafkajs starts it again");
    crashes = 0;
    loggedAt = Date.now();
  });
}
