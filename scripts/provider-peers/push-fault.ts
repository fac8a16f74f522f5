export const PUSH_FAULT_MODES = [
  "none",
  "5xx",
  "hang",
  "drop",
  "slow",
  "rate-limit",
  "expired-token",
  "invalid-token",
] as const;

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

const MAX_DELAY_MS = 60_000;
const MAX_RETRY_AFTER_SECONDS = 3600;
const MAX_TIMES = 1000;

/** `value` as a fault, or an error that says what is wrong with it (it comes from HTTP too). */
export function pushFault(value: unknown): PushFault {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("a fault is an object with a mode");
  }
  const { mode, delayMs, status, retryAfterSeconds, times, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new Error(`a fault has no ${unknown.join(", ")}`);
  if (!isFaultMode(mode)) throw new Error(`a fault's mode is one of ${PUSH_FAULT_MODES.join(", ")}`);
  const fault: PushFault = { mode };
  if (mode === "slow") fault.delayMs = wholeNumber("a slow peer's delayMs", delayMs, 1, MAX_DELAY_MS);
  else if (delayMs !== undefined) throw new Error("only a slow peer takes delayMs");
  if (status !== undefined) {
    if (mode !== "5xx") throw new Error("only 5xx takes a status");
    if (status !== 500 && status !== 503) throw new Error("a 5xx status is 500 or 503");
    fault.status = status;
  }
  if (retryAfterSeconds !== undefined) {
    if (mode !== "rate-limit") throw new Error("only rate-limit takes retryAfterSeconds");
    fault.retryAfterSeconds = wholeNumber("retryAfterSeconds", retryAfterSeconds, 1, MAX_RETRY_AFTER_SECONDS);
  }
  if (times !== undefined) {
    if (mode === "none") throw new Error("none takes no times");
    fault.times = wholeNumber("times", times, 1, MAX_TIMES);
  }
  return fault;
}

/**
 * The fault in force, with its own count: `hit()` tells whether a request meets it, and spends
 * one of its `times`.
 */
export class FaultSwitch {
  private current: PushFault = { mode: "none" };
  private left: number | undefined;
  private since = Date.now();

  get(): PushFault {
    return this.left === undefined ? this.current : { ...this.current, times: this.left };
  }

  set(fault: PushFault): void {
    this.current = pushFault(fault);
    this.left = this.current.times;
    this.since = Date.now();
  }

  /** When the fault in force was set: `expired-token` expires what is older. */
  setAt(): number {
    return this.since;
  }

  /** The fault this request meets (`none` once its times are spent). */
  hit(): PushFault {
    const fault = this.current;
    if (fault.mode === "none" || this.left === undefined) return fault;
    this.left -= 1;
    if (this.left <= 0) {
      this.current = { mode: "none" };
      this.left = undefined;
    }
    return fault;
  }
}

function wholeNumber(label: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${label} is a whole number from ${min} to ${max}`);
  }
  return value;
}

function isFaultMode(value: unknown): value is PushFaultMode {
  return (PUSH_FAULT_MODES as readonly unknown[]).includes(value);
}
