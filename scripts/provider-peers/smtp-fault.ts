export const SMTP_FAULT_MODES = ["none", "reject-5xx", "tempfail-4xx", "hang", "drop", "slow"] as const;

/**
 * How the SMTP peer misbehaves: `reject-5xx` refuses for good (550), `tempfail-4xx` for now
 * (451), `hang` never answers the end of DATA, `drop` cuts the connection there instead of
 * answering, `slow` delays every answer it controls (greeting, AUTH, MAIL, RCPT, end of DATA).
 */
export type SmtpFaultMode = (typeof SMTP_FAULT_MODES)[number];

export interface SmtpFault {
  mode: SmtpFaultMode;
  /** `slow` only: how long each answer waits, in milliseconds. */
  delayMs?: number;
  /** `reject-5xx` and `tempfail-4xx` only: the command refused, RCPT unless told otherwise. */
  at?: "rcpt" | "data";
}

const MAX_DELAY_MS = 60_000;

/** `value` as a fault, or an error that says what is wrong with it (it comes from HTTP too). */
export function smtpFault(value: unknown): SmtpFault {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("a fault is an object with a mode");
  }
  const { mode, delayMs, at, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new Error(`a fault has no ${unknown.join(", ")}`);
  if (!isFaultMode(mode)) throw new Error(`a fault's mode is one of ${SMTP_FAULT_MODES.join(", ")}`);
  if (mode === "slow") {
    if (typeof delayMs !== "number" || !Number.isInteger(delayMs) || delayMs < 1 || delayMs > MAX_DELAY_MS) {
      throw new Error(`a slow peer's delayMs is a whole number from 1 to ${MAX_DELAY_MS}`);
    }
    return { mode, delayMs };
  }
  if (delayMs !== undefined) throw new Error("only a slow peer takes delayMs");
  if (mode === "reject-5xx" || mode === "tempfail-4xx") {
    if (at === undefined) return { mode };
    if (at !== "rcpt" && at !== "data") throw new Error('a refusal is "at" rcpt or data');
    return { mode, at };
  }
  if (at !== undefined) throw new Error("only a refusal takes at");
  return { mode };
}

function isFaultMode(value: unknown): value is SmtpFaultMode {
  return (SMTP_FAULT_MODES as readonly unknown[]).includes(value);
}
