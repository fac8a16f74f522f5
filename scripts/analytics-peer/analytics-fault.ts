import { delayMs, faultParser, wholeNumber } from "../provider-peers/peer-fault.ts";

export const ANALYTICS_FAULT_MODES = ["none", "5xx", "hang", "drop", "slow"] as const;

/**
 * How the Analytics Service peer misbehaves on its RPCs (never on its page): `5xx` answers
 * 503 UNAVAILABLE, `hang` never answers, `drop` cuts the connection once the request is in,
 * `slow` answers after `delayMs`. With `times`, the fault hits that many calls and then
 * turns to `none`.
 */
export type AnalyticsFaultMode = (typeof ANALYTICS_FAULT_MODES)[number];

export interface AnalyticsFault {
  mode: AnalyticsFaultMode;
  /** `slow` only, in milliseconds. */
  delayMs?: number;
  /** How many calls it hits before it turns to `none`; all of them when absent. */
  times?: number;
}

/** `value` as a fault, or an error that says what is wrong with it (it comes from HTTP too). */
export const analyticsFault = faultParser<AnalyticsFault>(ANALYTICS_FAULT_MODES, {
  delayMs,
  times: {
    takenBy: ANALYTICS_FAULT_MODES.filter((mode) => mode !== "none"),
    takers: "a fault other than none",
    check: wholeNumber("times", 1, 1000),
  },
});
