import { delayMs, faultParser } from "./peer-fault.ts";

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

/** `value` as a fault, or an error that says what is wrong with it (it comes from HTTP too). */
export const smtpFault = faultParser<SmtpFault>(SMTP_FAULT_MODES, {
  delayMs,
  at: {
    takenBy: ["reject-5xx", "tempfail-4xx"],
    takers: "a refusal",
    check: (value) => {
      if (value !== "rcpt" && value !== "data") throw new Error('a refusal is "at" rcpt or data');
      return value;
    },
  },
});
