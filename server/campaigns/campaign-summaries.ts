import type { Redis } from "ioredis";
import type { CampaignSummaryRefresh } from "../../core/campaign-report/index.ts";
import type { Logger } from "../../core/logger.ts";
import { sleep } from "../sleep.ts";

/** How often campaign summaries are refreshed, across all workers. */
export const SUMMARY_REFRESH_MS = 5_000;
const LOCK = "notification:campaign-summaries";

/**
 * Refreshes the running and recently completed campaigns' stats_summary from ClickHouse once
 * per SUMMARY_REFRESH_MS across all workers: a Redis lock of that length goes to one worker a
 * round, so the campaigns' rows and ClickHouse are asked once, however many workers run.
 */
export async function refreshCampaignSummaries(
  refresh: Pick<CampaignSummaryRefresh, "refresh">,
  redis: Pick<Redis, "set">,
  workerId: string,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      if (await redis.set(LOCK, workerId, "PX", SUMMARY_REFRESH_MS, "NX")) {
        const written = await refresh.refresh();
        if (written > 0) logger.debug({ written }, "campaign summaries refreshed");
      }
    } catch (error) {
      logger.warn({ err: error }, "campaign summaries not refreshed");
    }
    await sleep(SUMMARY_REFRESH_MS, signal);
  }
}
