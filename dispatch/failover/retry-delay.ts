/** How long a message waits between rounds of tries while its channel's providers fail. */
export interface RetrySettings {
  initialMs: number;
  maxMs: number;
  /** How long a message with no time to live keeps being retried before it fails. */
  giveUpAfterMs: number;
}

export const DEFAULT_RETRY_SETTINGS: RetrySettings = {
  initialMs: 1_000,
  maxMs: 5 * 60_000,
  giveUpAfterMs: 24 * 60 * 60_000,
};

/**
 * The wait before round `round` (1 for the first retry): exponential and capped, then
 * somewhere between half and all of it so that the messages of one outage do not come back
 * all at once; never shorter than what the provider asked for with `Retry-After`.
 */
export function retryDelayMs(
  round: number,
  settings: Pick<RetrySettings, "initialMs" | "maxMs">,
  random: () => number,
  retryAfterMs = 0,
): number {
  const ceiling = Math.min(settings.maxMs, settings.initialMs * 2 ** Math.max(0, round - 1));
  return Math.max(retryAfterMs, Math.round(ceiling * (0.5 + random() / 2)));
}
