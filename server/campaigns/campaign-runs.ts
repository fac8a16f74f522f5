import type { CampaignRunner } from "../../core/campaigns/index.ts";
import type { Logger } from "../../core/logger.ts";
import { sleep } from "../sleep.ts";

/**
 * Runs the active campaigns on this worker: a page at a time, each page of one campaign on one
 * worker (the runner's lock), looking again every CAMPAIGN_POLL_MS while none is active.
 */
export async function runCampaigns(
  runner: Pick<CampaignRunner, "runPage">,
  pollMs: number,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      const outcome = await runner.runPage();
      failures = 0;
      if (outcome?.failure !== undefined) {
        // That campaign waits; the next one is taken at once.
        logger.warn(
          { err: outcome.failure, campaignId: outcome.campaignId },
          "a campaign page was not sent: retried from its checkpoint shortly",
        );
      } else if (!outcome) {
        await sleep(pollMs, signal);
      }
    } catch (error) {
      failures++;
      logger.warn({ err: error, failures }, "no campaign could be taken yet");
      await sleep(Math.min(pollMs * 2 ** failures, 5_000), signal);
    }
  }
}
