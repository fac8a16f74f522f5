import { DomainError, ErrorCatalog } from "../errors.ts";
import type { Campaign, CampaignStatus } from "./campaign.ts";
import type { CampaignStatusChange } from "./campaign-events.ts";

// The one state machine of campaigns: draft → scheduled → active ⇄ paused → completed →
// archived, and active or paused straight to completed (completed early). Nothing goes back:
// what the platform was told a campaign did stays true.
const NEXT: Record<CampaignStatus, readonly CampaignStatus[]> = {
  draft: ["scheduled"],
  scheduled: ["active"],
  active: ["paused", "completed"],
  paused: ["active", "completed"],
  completed: ["archived"],
  archived: [],
};

/** What the API asks of a campaign; each one is some of the machine's edges. */
export type CampaignCommand = "schedule" | "start" | "pause" | "resume" | "complete" | "archive";

// The statuses each command takes a campaign through, by the status it starts from. A command
// takes only the campaigns listed: resuming a scheduled campaign must not start it early, nor
// starting a paused one resume it.
const COMMANDS: Record<CampaignCommand, Partial<Record<CampaignStatus, readonly CampaignStatus[]>>> = {
  schedule: { draft: ["scheduled"] },
  // Started now, a draft is scheduled for now on its way, so no status is skipped.
  start: { draft: ["scheduled", "active"], scheduled: ["active"] },
  pause: { active: ["paused"] },
  resume: { paused: ["active"] },
  complete: { active: ["completed"], paused: ["completed"] },
  archive: { completed: ["archived"] },
};

/** Refuses any change of status the machine does not have, naming both ends and what is allowed. */
export function assertTransition(campaignId: string, from: CampaignStatus, to: CampaignStatus): void {
  if (!NEXT[from].includes(to)) throw refusal(campaignId, from, `it cannot go from ${from} to ${to}`);
}

/** The statuses `command` takes a campaign in `from` through, in order; refuses a campaign it does not take. */
export function stepsOf(
  campaignId: string,
  command: CampaignCommand,
  from: CampaignStatus,
): readonly CampaignStatus[] {
  const paths = COMMANDS[command];
  const steps = paths[from];
  if (steps) return steps;
  const starts = Object.keys(paths);
  const target = Object.values(paths)[0]?.at(-1);
  throw refusal(campaignId, from, `${command} takes a campaign from ${starts.join(" or ")} to ${target}`);
}

/** Refuses an edit: only a draft changes, a scheduled or started campaign is what it was told to be. */
export function assertEditable(campaign: Campaign): void {
  if (campaign.status !== "draft") throw refusal(campaign.id, campaign.status, "only a draft can be edited");
}

export interface Move {
  /** Who makes the change: a caller's subject, or "system". */
  by: string;
  at: Date;
  /** For a move to scheduled: when it is to start (`at` when none). */
  scheduledAt?: Date;
}

/** The campaign after one step of the machine, and the change as the platform is told it. */
export function advance(
  campaign: Campaign,
  to: CampaignStatus,
  move: Move,
): { campaign: Campaign; change: CampaignStatusChange } {
  assertTransition(campaign.id, campaign.status, to);
  const next: Campaign = {
    ...campaign,
    status: to,
    ...(to === "scheduled" ? { scheduledAt: move.scheduledAt ?? move.at } : {}),
    // A resume keeps the time of the first start.
    ...(to === "active" ? { startedAt: campaign.startedAt ?? move.at } : {}),
    ...(to === "completed" ? { completedAt: move.at } : {}),
    updatedBy: move.by,
    updatedAt: move.at,
    revision: campaign.revision + 1,
  };
  return {
    campaign: next,
    change: {
      campaignId: campaign.id,
      campaignName: campaign.name,
      newStatus: to,
      previousStatus: campaign.status,
      changedAt: move.at,
      updatedBy: move.by,
      revision: next.revision,
    },
  };
}

function refusal(campaignId: string, from: CampaignStatus, what: string): DomainError {
  const allowed = NEXT[from];
  const onward =
    allowed.length > 0 ? `from ${from} it can go only to ${allowed.join(" or ")}` : `${from} is final`;
  return new DomainError(
    ErrorCatalog.failedPrecondition,
    `campaign ${campaignId} is ${from}: ${what}, and ${onward}`,
  );
}
