/** An event as Kafka will carry it, already encoded. */
export interface OutboxEvent {
  topic: string;
  /** The partition key: events with one key keep their order. */
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
  /** Published no sooner than this (a retry that waits); none: as soon as it commits. */
  notBefore?: Date;
}

/** Events written in the transaction of the change they tell of. */
export interface Outbox {
  enqueue(events: OutboxEvent[]): Promise<void>;
}

/**
 * The committed events, handed out in the order they were enqueued to one publisher at a
 * time across every process, and removed only once `publish` resolved: a publisher that
 * dies mid-batch leaves the batch to be published again, never lost.
 */
export interface OutboxFeed {
  /**
   * Publishes about `limit` events (whole transactions' worth: one enqueued with more goes
   * alone) that have waited at least the feed's grace period (the process that committed
   * them publishes them itself sooner); answers how many, 0 when there were none or another
   * process holds the feed.
   */
  publishNext(limit: number, publish: (events: OutboxEvent[]) => Promise<void>): Promise<number>;
  /** Removes events their committing process published itself. */
  remove(ids: string[]): Promise<void>;
}

/** Events of one topic as one transaction committed them, under the id that removes them together. */
export interface CommittedEvents {
  id: string;
  events: OutboxEvent[];
}
