import type { CampaignManager } from "../../core/campaigns/index.ts";
import type { Logger } from "../../core/logger.ts";
import { sleep } from "../sleep.ts";

// Campaigns started per transaction; more due at once are started back to back.
const BATCH = 100;

/**
 * Starts scheduled campaigns when their time comes: every worker looks every CAMPAIGN_POLL_MS,
 * and each due campaign is taken by one of them (FOR UPDATE SKIP LOCKED), so with several
 * workers it starts once, within a poll of its time. Starting makes it active and tells the
 * platform (updatedBy "system").
 *
 * Nothing is sent here: sending is the campaign runner's, the next slice, which works on the
 * campaigns that are active, whether a schedule or a marketer's StartCampaign made them so.
 */
export async function startScheduledCampaigns(
  campaigns: Pick<CampaignManager, "startDue">,
  pollMs: number,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    let started = 0;
    try {
      started = await campaigns.startDue(BATCH);
      if (started > 0) logger.info({ started }, "scheduled campaigns started");
      failures = 0;
    } catch (error) {
      failures++;
      logger.warn({ err: error, failures }, "due campaigns not started yet");
    }
    if (started < BATCH) await sleep(Math.min(pollMs * 2 ** failures, 5_000), signal);
  }
}
