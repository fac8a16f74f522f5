import { delayMs, faultParser, HTTP_FAULT_MODES, retryAfterSeconds, wholeNumber } from "./peer-fault.ts";

export const PUSH_FAULT_MODES = [...HTTP_FAULT_MODES, "expired-token", "invalid-token"] as const;

/**
 * How a push peer (FCM, APNs) misbehaves, each as its vendor does:
 * - `5xx`: 503 (unavailable) unless `status` says 500 (internal error);
 * - `hang`: the request is read and never answered;
 * - `drop`: the connection is cut instead of an answer;
 * - `slow`: every answer waits `delayMs` first;
 * - `rate-limit`: 429, with `Retry-After: retryAfterSeconds` where the vendor sends one (FCM);
 * - `expired-token`: the tokens issued or used before the fault was set are past their lifetime
 *   (FCM 401 UNAUTHENTICATED, APNs 403 ExpiredProviderToken); newer ones are fine;
 * - `invalid-token`: every token is refused (FCM: 401, and the token exchange answers
 *   invalid_grant; APNs: 403 InvalidProviderToken).
 * With `times`, the fault hits that many requests and then turns to `none`.
 */
export type PushFaultMode = (typeof PUSH_FAULT_MODES)[number];

export interface PushFault {
  mode: PushFaultMode;
  /** `slow` only, in milliseconds. */
  delayMs?: number;
  /** `5xx` only. */
  status?: 500 | 503;
  /** `rate-limit` only; 30 by default. */
  retryAfterSeconds?: number;
  /** How many requests it hits before it turns to `none`; all of them when absent. */
  times?: number;
}

const MAX_TIMES = 1000;

/** `value` as a fault, or an error that says what is wrong with it (it comes from HTTP too). */
export const pushFault = faultParser<PushFault>(PUSH_FAULT_MODES, {
  delayMs,
  status: {
    takenBy: ["5xx"],
    takers: "5xx",
    check: (value) => {
      if (value !== 500 && value !== 503) throw new Error("a 5xx status is 500 or 503");
      return value;
    },
  },
  retryAfterSeconds,
  times: {
    takenBy: PUSH_FAULT_MODES.filter((mode) => mode !== "none"),
    takers: "a fault other than none",
    check: wholeNumber("times", 1, MAX_TIMES),
  },
});
