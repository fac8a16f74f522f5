import type { CampaignProgress } from "./campaign.ts";
import type { CampaignCheckpoint } from "./campaign-store.ts";

/**
 * A campaign's progress from its runner's checkpoint. The rate is over the time since it
 * started, pauses included: it says when the audience will be reached if the campaign goes on
 * as it went so far, which is what a marketer plans by.
 */
export function campaignProgress(checkpoint: CampaignCheckpoint, startedAt: Date | null): CampaignProgress {
  const seconds =
    checkpoint.at && startedAt ? Math.max(0, (checkpoint.at.getTime() - startedAt.getTime()) / 1000) : 0;
  const ratePerSecond = seconds > 0 ? checkpoint.submitted / seconds : 0;
  // The hold-out is reached by being left out: it is not left to send.
  const left =
    checkpoint.audienceSize === null
      ? null
      : Math.max(0, checkpoint.audienceSize - checkpoint.submitted - checkpoint.heldOut);
  return {
    audienceSize: checkpoint.audienceSize,
    submitted: checkpoint.submitted,
    heldOut: checkpoint.heldOut,
    phase: checkpoint.phase,
    ratePerSecond,
    etaSeconds:
      left === null ? null : left === 0 ? 0 : ratePerSecond > 0 ? Math.ceil(left / ratePerSecond) : null,
  };
}
