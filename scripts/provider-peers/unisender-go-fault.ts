export const UNISENDER_GO_FAULT_MODES = [
  "none",
  "5xx",
  "hang",
  "drop",
  "slow",
  "rate-limit",
  "auth",
] as const;

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

const MAX_DELAY_MS = 60_000;
const MAX_RETRY_AFTER_SECONDS = 3600;

/** `value` as a fault, or an error that says what is wrong with it (it comes from HTTP too). */
export function unisenderGoFault(value: unknown): UnisenderGoFault {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("a fault is an object with a mode");
  }
  const { mode, delayMs, retryAfterSeconds, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new Error(`a fault has no ${unknown.join(", ")}`);
  if (!isFaultMode(mode)) {
    throw new Error(`a fault's mode is one of ${UNISENDER_GO_FAULT_MODES.join(", ")}`);
  }
  if (mode !== "slow" && delayMs !== undefined) throw new Error("only a slow peer takes delayMs");
  if (mode !== "rate-limit" && retryAfterSeconds !== undefined) {
    throw new Error("only a rate limit takes retryAfterSeconds");
  }
  if (mode === "slow") {
    if (!isWhole(delayMs, 1, MAX_DELAY_MS)) {
      throw new Error(`a slow peer's delayMs is a whole number from 1 to ${MAX_DELAY_MS}`);
    }
    return { mode, delayMs };
  }
  if (mode === "rate-limit" && retryAfterSeconds !== undefined) {
    if (!isWhole(retryAfterSeconds, 0, MAX_RETRY_AFTER_SECONDS)) {
      throw new Error(`retryAfterSeconds is a whole number from 0 to ${MAX_RETRY_AFTER_SECONDS}`);
    }
    return { mode, retryAfterSeconds };
  }
  return { mode };
}

function isWhole(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function isFaultMode(value: unknown): value is UnisenderGoFaultMode {
  return (UNISENDER_GO_FAULT_MODES as readonly unknown[]).includes(value);
}
