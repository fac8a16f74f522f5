import type { DeliveryClaims } from "./delivery-claims.ts";
import type { MessageLog } from "./message-log.ts";

/**
 * What one step of sending writes, seen from inside its transaction: claims and the message
 * log now; the schedule and the outbox of status events join it, so that a step's rows
 * commit together or not at all.
 */
export interface SendTransaction {
  claims: DeliveryClaims;
  messages: MessageLog;
}

/** Runs a step in one transaction: whatever `work` throws rolls all of it back. */
export interface UnitOfWork {
  run<T>(work: (tx: SendTransaction) => Promise<T>): Promise<T>;
}
