import type { OutboxEvent } from "./outbox.ts";
import type { OutgoingMessage } from "./provider.ts";
import type { MessageStatusEvent } from "./status-event.ts";

/**
 * One rendered message waiting for its provider, with what its status events need: the
 * orchestrator writes it in the transaction that queued the message, a dispatcher takes it.
 */
export interface DispatchJob {
  message: OutgoingMessage;
  /** The message's status event fields as they were when it was queued. */
  event: Omit<
    MessageStatusEvent,
    "status" | "occurredAt" | "reason" | "reasonDetail" | "provider" | "providerMessageId"
  >;
  /** Set once every provider failed it for a while: the job came back to be tried again. */
  retry?: {
    /** Rounds of tries that failed so far. */
    round: number;
    /** When the first of them failed, in milliseconds since the epoch. */
    firstFailedAt: number;
  };
}

/**
 * Dispatch jobs as the outbox carries them, on queues separated by priority so that a
 * `high` job never waits behind a bulk of `low` ones.
 */
export interface DispatchQueue {
  encode(jobs: DispatchJob[]): OutboxEvent[];
}
