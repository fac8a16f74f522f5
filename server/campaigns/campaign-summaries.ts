import type { CampaignSummaryRefresh } from "../../core/campaign-report/index.ts";
import type { Logger } from "../../core/logger.ts";
import { sleep } from "../sleep.ts";

/** How often campaign summaries are refreshed, across all workers. */
export const SUMMARY_REFRESH_MS = 5_000;

/**
 * Refreshes the running and recently completed campaigns' stats_summary from ClickHouse every
 * SUMMARY_REFRESH_MS on each worker; a round under way on another worker (the database's
 * advisory lock, so workers of other deployments sharing a Redis never stand in) is skipped.
 */
export async function refreshCampaignSummaries(
  refresh: Pick<CampaignSummaryRefresh, "refresh">,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const written = await refresh.refresh();
      if (written > 0) logger.debug({ written }, "campaign summaries refreshed");
    } catch (error) {
      logger.warn({ err: error }, "campaign summaries not refreshed");
    }
    await sleep(SUMMARY_REFRESH_MS, signal);
  }
}
