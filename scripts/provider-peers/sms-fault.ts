import { delayMs, faultParser, HTTP_FAULT_MODES, retryAfterSeconds } from "./peer-fault.ts";

export const SMS_FAULT_MODES = [...HTTP_FAULT_MODES, "auth", "bad-number"] as const;

/**
 * How an SMS peer misbehaves on its API (never on its page): `5xx` answers 503 from the
 * front, `hang` never answers, `drop` cuts the connection once the request is in, `slow`
 * answers after `delayMs`, `rate-limit` answers 429 with Retry-After, `auth` refuses the
 * credentials whatever they are, `bad-number` refuses every number as the vendor refuses one
 * that is not a number.
 */
export type SmsFaultMode = (typeof SMS_FAULT_MODES)[number];

export interface SmsFault {
  mode: SmsFaultMode;
  /** `slow` only: how long each answer waits, in milliseconds. */
  delayMs?: number;
  /** `rate-limit` only: the Retry-After it answers, 30 unless told otherwise. */
  retryAfterSeconds?: number;
}

/** `value` as a fault, or an error that says what is wrong with it (it comes from HTTP too). */
export const smsFault = faultParser<SmsFault>(SMS_FAULT_MODES, { delayMs, retryAfterSeconds });
