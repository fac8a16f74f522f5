export const SMS_FAULT_MODES = [
  "none",
  "5xx",
  "hang",
  "drop",
  "slow",
  "rate-limit",
  "auth",
  "bad-number",
] as const;

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

const MAX_DELAY_MS = 60_000;
const MAX_RETRY_AFTER_SECONDS = 3600;

/** `value` as a fault, or an error that says what is wrong with it (it comes from HTTP too). */
export function smsFault(value: unknown): SmsFault {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("a fault is an object with a mode");
  }
  const { mode, delayMs, retryAfterSeconds, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new Error(`a fault has no ${unknown.join(", ")}`);
  if (!(SMS_FAULT_MODES as readonly unknown[]).includes(mode)) {
    throw new Error(`a fault's mode is one of ${SMS_FAULT_MODES.join(", ")}`);
  }
  const fault = { mode: mode as SmsFaultMode };
  if (mode === "slow") {
    if (!wholeIn(delayMs, 1, MAX_DELAY_MS)) {
      throw new Error(`a slow peer's delayMs is a whole number from 1 to ${MAX_DELAY_MS}`);
    }
    return { ...fault, delayMs: delayMs as number };
  }
  if (delayMs !== undefined) throw new Error("only a slow peer takes delayMs");
  if (mode === "rate-limit") {
    if (retryAfterSeconds === undefined) return fault;
    if (!wholeIn(retryAfterSeconds, 0, MAX_RETRY_AFTER_SECONDS)) {
      throw new Error(`retryAfterSeconds is a whole number from 0 to ${MAX_RETRY_AFTER_SECONDS}`);
    }
    return { ...fault, retryAfterSeconds: retryAfterSeconds as number };
  }
  if (retryAfterSeconds !== undefined) throw new Error("only a rate-limiting peer takes retryAfterSeconds");
  return fault;
}

function wholeIn(value: unknown, min: number, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}
