import type { DeliveryClaims } from "./delivery-claims.ts";
import type { MessageLog } from "./message-log.ts";
import type { CommittedEvents, Outbox } from "./outbox.ts";
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

/** Runs a step in one transaction: whatever `work` throws rolls all of it back. */
export interface UnitOfWork {
  run<T>(work: (tx: SendTransaction) => Promise<T>): Promise<T>;
  /**
   * Hears the outbox events of every transaction once it committed (never of one that
   * rolled back), so they can be published at once instead of when the feed finds them.
   */
  afterCommit(listener: (committed: CommittedEvents[]) => void): void;
  /** Reads outside any transaction: one round trip, where a read alone needs no BEGIN and COMMIT. */
  read<T>(work: (stores: Pick<SendTransaction, "messages">) => Promise<T>): Promise<T>;
}
