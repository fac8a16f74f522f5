import type { Producer } from "kafkajs";
import type { Logger } from "../core/logger.ts";
import type { CommittedEvent, OutboxFeed } from "../core/sending/index.ts";
import { sendOutboxEvents } from "./outbox-relay.ts";

export interface CommittedEventPublisherOptions {
  /** Events per Kafka batch. */
  batchSize: number;
  /** Events held at most while Kafka is slow; past it they are left to the relay's sweep. */
  maxPending: number;
  logger: Logger;
}

/**
 * Publishes the events of a transaction as soon as it committed, from the process that
 * committed it, then removes them from the outbox: a status event or a dispatch job is on
 * Kafka milliseconds after its change instead of at the relay's next look. Whatever this
 * does not get to (Kafka down, too much waiting, a crash) stays in the outbox, where the
 * relay publishes it once its grace period passed: never lost, at most published twice with
 * the same CloudEvent id.
 */
export class CommittedEventPublisher {
  private pending: CommittedEvent[] = [];
  private flushing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly producer: Producer,
    private readonly feed: Pick<OutboxFeed, "remove">,
    private readonly options: CommittedEventPublisherOptions,
  ) {}

  /** The listener of the unit of work's commits; never throws. */
  readonly committed = (events: CommittedEvent[]): void => {
    if (this.stopped) return;
    if (this.pending.length + events.length > this.options.maxPending) return;
    this.pending.push(...events);
    // Transactions committing in the same turn of the event loop share a Kafka batch.
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  };

  /** Takes no more events and waits for the batch in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.flushing;
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.options.batchSize);
      try {
        await sendOutboxEvents(
          this.producer,
          batch.map((committed) => committed.event),
        );
      } catch (error) {
        // Left in the outbox for the relay; in memory only this batch is given up.
        this.options.logger.warn(
          { err: error, events: batch.length },
          "committed events left to the outbox relay",
        );
        continue;
      }
      try {
        await this.feed.remove(batch.map((committed) => committed.id));
      } catch (error) {
        this.options.logger.warn(
          { err: error, events: batch.length },
          "published events not removed from the outbox; the relay publishes them again",
        );
      }
    }
    this.flushing = undefined;
  }
}
