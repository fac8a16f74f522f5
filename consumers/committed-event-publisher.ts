import type { Producer } from "kafkajs";
import type { Logger } from "../core/logger.ts";
import type { CommittedEvents, OutboxFeed } from "../core/sending/index.ts";
import { sendOutboxEvents } from "./outbox-relay.ts";

export interface CommittedEventPublisherOptions {
  /** Events per Kafka batch, about: the events of one transaction's row go together. */
  batchSize: number;
  /** Events held at most while Kafka is slow; past it they are left to the relay's sweep. */
  maxPending: number;
  /**
   * The oldest a commit's events may be when their send begins; older ones are left to the
   * relay. Well under the relay's grace period: the relay takes rows older than that, and
   * both would publish them.
   */
  maxAgeMs: number;
  logger: Logger;
  now?: () => number;
}

interface Pending {
  row: CommittedEvents;
  committedAt: number;
}

// Rows left to the relay for their age are logged at most this often, with their count.
const LEFT_LOG_INTERVAL_MS = 10_000;

/**
 * Publishes the events of a transaction as soon as it committed, from the process that
 * committed it, then removes them from the outbox: a status event or a dispatch job is on
 * Kafka milliseconds after its change instead of at the relay's next look. Whatever this
 * does not get to (Kafka down, too much waiting, a crash) stays in the outbox, where the
 * relay publishes it once its grace period passed: never lost, at most published twice with
 * the same CloudEvent id. Events that waited here too long (the process falls behind) are
 * left to the relay too: publishing them here as well doubled the work of an overloaded
 * worker, each event sent twice and consumed twice.
 */
export class CommittedEventPublisher {
  private pending: Pending[] = [];
  private pendingEvents = 0;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private readonly now: () => number;
  private leftForAge = 0;
  private leftLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly producer: Producer,
    private readonly feed: Pick<OutboxFeed, "remove">,
    private readonly options: CommittedEventPublisherOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The listener of the unit of work's commits; never throws. */
  readonly committed = (rows: CommittedEvents[]): void => {
    if (this.stopped) return;
    const count = rows.reduce((sum, row) => sum + row.events.length, 0);
    if (this.pendingEvents + count > this.options.maxPending) return;
    const committedAt = this.now();
    for (const row of rows) this.pending.push({ row, committedAt });
    this.pendingEvents += count;
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
      this.leaveOldToTheRelay();
      const batch = this.takeBatch();
      if (batch.length === 0) break;
      const events = batch.flatMap((row) => row.events);
      try {
        await sendOutboxEvents(this.producer, events, this.options.batchSize);
      } catch (error) {
        // Left in the outbox for the relay; in memory only this batch is given up.
        this.options.logger.warn(
          { err: error, events: events.length },
          "committed events left to the outbox relay",
        );
        continue;
      }
      try {
        await this.feed.remove(batch.map((row) => row.id));
      } catch (error) {
        this.options.logger.warn(
          { err: error, events: events.length },
          "published events not removed from the outbox; the relay publishes them again",
        );
      }
    }
    this.flushing = undefined;
  }

  /** Whole rows from the front, up to the one that reaches the batch size. */
  private takeBatch(): CommittedEvents[] {
    let count = 0;
    let rows = 0;
    while (rows < this.pending.length && count < this.options.batchSize) {
      count += (this.pending[rows] as Pending).row.events.length;
      rows++;
    }
    this.pendingEvents -= count;
    return this.pending.splice(0, rows).map((each) => each.row);
  }

  /** Drops the rows at the front committed longer ago than maxAgeMs: the relay publishes them. */
  private leaveOldToTheRelay(): void {
    const oldest = this.now() - this.options.maxAgeMs;
    let rows = 0;
    let events = 0;
    while (rows < this.pending.length && (this.pending[rows] as Pending).committedAt < oldest) {
      events += (this.pending[rows] as Pending).row.events.length;
      rows++;
    }
    if (rows === 0) return;
    this.pending.splice(0, rows);
    this.pendingEvents -= events;
    this.leftForAge += events;
    if (this.now() - this.leftLoggedAt < LEFT_LOG_INTERVAL_MS) return;
    this.options.logger.warn(
      { events: this.leftForAge, maxAgeMs: this.options.maxAgeMs },
      "committed events waited too long to be sent; left to the outbox relay",
    );
    this.leftForAge = 0;
    this.leftLoggedAt = this.now();
  }
}
