import type { DeliveryClaim, DeliveryClaims } from "./delivery-claims.ts";
import type { MessageLog, NewMessage, StatusChange } from "./message-log.ts";
import type { CommittedEvents, Outbox, OutboxEvent } from "./outbox.ts";
import type { Schedule } from "./schedule.ts";

/**
 * What one step of sending writes, seen from inside its transaction: claims, the message log,
 * the schedule and the outbox of status events, so that a step's rows commit together or not
 * at all.
 */
export interface SendTransaction {
  claims: DeliveryClaims;
  messages: MessageLog;
  schedule: Schedule;
  outbox: Outbox;
}

/** Deliveries believed never claimed before, with the message ids chosen for them, their messages and events. */
export interface FreshDeliveries {
  claims: DeliveryClaim[];
  messages: NewMessage[];
  events: OutboxEvent[];
}

/** Runs a step in one transaction: whatever `work` throws rolls all of it back. */
export interface UnitOfWork {
  run<T>(work: (tx: SendTransaction) => Promise<T>): Promise<T>;
  /**
   * Writes fresh deliveries' claims, messages and events as one step, in one round trip
   * where the store can: every wait on the database is felt in a send's latency. False, with
   * nothing written, when any of them had been claimed before. Its events are heard after
   * the commit like those of `run`.
   */
  recordFresh(fresh: FreshDeliveries): Promise<boolean>;
  /**
   * Applies status changes as MessageLog.record does and enqueues the event of each one that
   * applied (`events[i]` tells of `changes[i]`), as one step, in one round trip where the
   * store can. Answers the changes that applied.
   */
  recordChanges(changes: StatusChange[], events: OutboxEvent[]): Promise<StatusChange[]>;
  /**
   * Hears the outbox events of every transaction once it committed (never of one that
   * rolled back), so they can be published at once instead of when the feed finds them.
   */
  afterCommit(listener: (committed: CommittedEvents[]) => void): void;
  /** Reads outside any transaction: one round trip, where a read alone needs no BEGIN and COMMIT. */
  read<T>(work: (stores: Pick<SendTransaction, "messages">) => Promise<T>): Promise<T>;
}
