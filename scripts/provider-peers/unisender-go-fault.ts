import { delayMs, faultParser, HTTP_FAULT_MODES, retryAfterSeconds } from "./peer-fault.ts";

export const UNISENDER_GO_FAULT_MODES = [...HTTP_FAULT_MODES, "auth"] as const;

/**
 * How the Unisender Go peer misbehaves on email/send: `5xx` answers 500, `hang` never answers,
 * `drop` cuts the connection instead of answering, `slow` answers after `delayMs`,
 * `rate-limit` answers 429 with `Retry-After: retryAfterSeconds` (1 by default), `auth`
 * refuses the API key as if it were wrong (401).
 */
export type UnisenderGoFaultMode = (typeof UNISENDER_GO_FAULT_MODES)[number];

export interface UnisenderGoFault {
  mode: UnisenderGoFaultMode;
  /** `slow` only: how long each answer waits, in milliseconds. */
  delayMs?: number;
  /** `rate-limit` only: what Retry-After says. */
  retryAfterSeconds?: number;
}

/** `value` as a fault, or an error that says what is wrong with it (it comes from HTTP too). */
export const unisenderGoFault = faultParser<UnisenderGoFault>(UNISENDER_GO_FAULT_MODES, {
  delayMs,
  retryAfterSeconds,
});
