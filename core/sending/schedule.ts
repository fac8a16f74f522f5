import type { SendRequest } from "./send-request.ts";

/** Requests that wait for their `sendAt`, seen from inside a step's transaction. */
export interface Schedule {
  /** Keeps the request until it is due; false when one with its id already waits or went. */
  add(request: SendRequest & { sendAt: Date }): Promise<boolean>;
  /** Stops a waiting request from ever being released; false when none waits with that id. */
  cancel(requestId: string): Promise<boolean>;
}

/**
 * The requests that became due, handed out once across every worker: each batch is locked
 * for the release and skipped by the others, and stays waiting when `release` fails. A crash
 * after `release` and before the batch is marked releases it again, so `release` must be
 * idempotent (the delivery claims make accepting a request so).
 */
export interface DueSends {
  /** Releases up to `limit` requests due at `now`; answers how many. */
  releaseDue(now: Date, limit: number, release: (requests: SendRequest[]) => Promise<void>): Promise<number>;
}
