import { setTimeout as pause } from "node:timers/promises";
import type { Producer } from "kafkajs";
import type { Logger } from "../core/logger.ts";
import type { OutboxEvent, OutboxFeed } from "../core/sending/index.ts";

export interface OutboxRelayOptions {
  /** Events per Kafka batch, and about how many one turn takes from the outbox. */
  batchSize: number;
  /** The pause when there is nothing to publish, or after a failure, in milliseconds. */
  idleMs: number;
  logger: Logger;
}

/**
 * Publishes the outbox's committed events to Kafka, in their order, acknowledged by every
 * in-sync replica before they leave the outbox. Kafka down: the batch stays and is tried
 * again after a pause, so an event is never lost; one published twice (a crash after Kafka's
 * acknowledgement) carries the same CloudEvent id for consumers to drop.
 */
export class OutboxRelay {
  constructor(
    private readonly feed: OutboxFeed,
    private readonly producer: Producer,
    private readonly options: OutboxRelayOptions,
  ) {}

  /** One batch; how many events it published. */
  publishOnce(): Promise<number> {
    return this.feed.publishNext(this.options.batchSize, (events) => this.send(events));
  }

  /**
   * Batches back to back while there are events, until `signal` aborts; a pause when there
   * are none, and a longer one after each failure in a row (up to 5 s), so an outage is
   * logged a few times, not ten times a second.
   */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let published = 0;
      try {
        published = await this.publishOnce();
        failures = 0;
      } catch (error) {
        failures++;
        this.options.logger.warn({ err: error, failures }, "outbox events not published yet");
      }
      if (published > 0) continue;
      const pauseMs = Math.min(this.options.idleMs * 2 ** failures, Math.max(this.options.idleMs, 5_000));
      // An abort ends the pause at once (it rejects), and with it the loop.
      await pause(pauseMs, undefined, { signal }).catch(() => undefined);
    }
  }

  private send(events: OutboxEvent[]): Promise<void> {
    return sendOutboxEvents(this.producer, events, this.options.batchSize);
  }
}

// Kafka refuses a partition's batch over its message.max.bytes (1 MiB by default) and then
// every batch after it, so one send carries at most this much, whatever the events' count.
const MAX_SEND_BYTES = 900 * 1024;

/**
 * Sends events in their order, acknowledged by every in-sync replica, in Kafka batches of at
 * most `perBatch` events and MAX_SEND_BYTES (an event larger than that goes alone);
 * consecutive events of one topic go together.
 */
export async function sendOutboxEvents(
  producer: Producer,
  events: OutboxEvent[],
  perBatch: number,
): Promise<void> {
  for (const batch of batchesOf(events, perBatch, MAX_SEND_BYTES)) {
    const topicMessages: {
      topic: string;
      messages: { key: string; value: Buffer; headers: Record<string, string> }[];
    }[] = [];
    for (const event of batch) {
      // A view of the bytes, not a copy of them.
      const value = Buffer.from(event.value.buffer, event.value.byteOffset, event.value.byteLength);
      const message = { key: event.key, value, headers: event.headers };
      const last = topicMessages.at(-1);
      if (last?.topic === event.topic) last.messages.push(message);
      else topicMessages.push({ topic: event.topic, messages: [message] });
    }
    // kafkajs keeps the order of the messages of one partition.
    await producer.sendBatch({ topicMessages, acks: -1 });
  }
}

/** Consecutive runs of events, each within both bounds unless one event alone exceeds `maxBytes`. */
export function batchesOf(events: OutboxEvent[], maxCount: number, maxBytes: number): OutboxEvent[][] {
  const batches: OutboxEvent[][] = [];
  let current: OutboxEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = sizeOf(event);
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function sizeOf(event: OutboxEvent): number {
  let size = event.value.byteLength + Buffer.byteLength(event.key);
  for (const [name, value] of Object.entries(event.headers)) size += name.length + Buffer.byteLength(value);
  return size;
}
