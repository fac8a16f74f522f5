import {
  type Campaign,
  type CampaignCheckpoint,
  type CampaignRunPhase,
  type CampaignStatsSummary,
  type CampaignStatus,
  type CampaignVariant,
  campaignProgress,
  type WinnerDecision,
  type WinnerRollout,
} from "../../../core/campaigns/index.ts";
import { isUuid } from "../../../core/uuids.ts";

/** A row of notification_campaigns (migrations 0014, 0017) as a raw query gives it. */
export interface CampaignRow extends CheckpointRow {
  id: string;
  name: string;
  description: string | null;
  target_segment_id: string | null;
  template_id: string;
  status: CampaignStatus;
  scheduled_at: string | Date | null;
  started_at: string | Date | null;
  completed_at: string | Date | null;
  created_by_subject: string;
  updated_by: string;
  stats_summary: CampaignStatsSummary | null;
  variants: CampaignVariant[];
  holdout_percent: number;
  winner_rollout: WinnerRollout | null;
  // JSON gives its time back as text.
  ab_decision: (Omit<WinnerDecision, "decidedAt"> & { decidedAt: string }) | null;
  send_rate_per_second: number | null;
  tracking_enabled: boolean;
  revision: string | number;
  created_at: string | Date;
  updated_at: string | Date;
  // The cursor's exact time: a Date keeps milliseconds, the column microseconds.
  created_us: string;
}

export const SELECTED = `*, (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us`;

// Every column a write sets, in the order of `paramsOf`.
export const WRITTEN = [
  "id",
  "name",
  "description",
  "target_segment_id",
  "template_id",
  "status",
  "scheduled_at",
  "started_at",
  "completed_at",
  "created_by",
  "created_by_subject",
  "updated_by",
  "stats_summary",
  "variants",
  "holdout_percent",
  "winner_rollout",
  "ab_decision",
  "send_rate_per_second",
  "tracking_enabled",
  "revision",
  "created_at",
  "updated_at",
] as const;

const JSON_COLUMNS = new Set<string>(["stats_summary", "variants", "winner_rollout", "ab_decision"]);

/** The `?` of each written column, cast where the driver's text needs it. */
export const PLACEHOLDERS = WRITTEN.map((column) => (JSON_COLUMNS.has(column) ? "?::jsonb" : "?"));

export function paramsOf(campaign: Campaign): unknown[] {
  return [
    campaign.id,
    campaign.name,
    campaign.description || null,
    campaign.targetSegmentId || null,
    campaign.templateId,
    campaign.status,
    isoOf(campaign.scheduledAt),
    isoOf(campaign.startedAt),
    isoOf(campaign.completedAt),
    // The spec's column names the admin or marketer by their UUID; a caller known by another
    // kind of id is named by created_by_subject alone.
    isUuid(campaign.createdBy) ? campaign.createdBy : null,
    campaign.createdBy,
    campaign.updatedBy,
    campaign.statsSummary === null ? null : JSON.stringify(campaign.statsSummary),
    JSON.stringify(campaign.variants),
    campaign.holdoutPercent,
    campaign.winnerRollout === null ? null : JSON.stringify(campaign.winnerRollout),
    campaign.winnerDecision === null ? null : JSON.stringify(campaign.winnerDecision),
    campaign.sendRatePerSecond,
    campaign.trackingEnabled,
    campaign.revision,
    campaign.createdAt.toISOString(),
    campaign.updatedAt.toISOString(),
  ];
}

export function campaignOf(row: CampaignRow): Campaign {
  return {
    id: row.id,
    name: row.name,
    description: row.description ?? "",
    targetSegmentId: row.target_segment_id ?? "",
    templateId: row.template_id,
    variants: row.variants,
    holdoutPercent: row.holdout_percent,
    winnerRollout: row.winner_rollout,
    winnerDecision: row.ab_decision && { ...row.ab_decision, decidedAt: new Date(row.ab_decision.decidedAt) },
    sendRatePerSecond: row.send_rate_per_second,
    trackingEnabled: row.tracking_enabled,
    status: row.status,
    scheduledAt: dateOf(row.scheduled_at),
    startedAt: dateOf(row.started_at),
    completedAt: dateOf(row.completed_at),
    createdBy: row.created_by_subject,
    updatedBy: row.updated_by,
    statsSummary: row.stats_summary,
    progress: campaignProgress(checkpointOfRow(row), dateOf(row.started_at)),
    revision: Number(row.revision),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** The runner's columns of notification_campaigns (migrations 0017, 0019). */
export interface CheckpointRow {
  audience_cursor: string;
  audience_submitted: string | number;
  audience_held_out: string | number;
  run_phase: CampaignRunPhase;
  audience_size: string | number | null;
  checkpointed_at: string | Date | null;
}

export function checkpointOfRow(row: CheckpointRow): CampaignCheckpoint {
  return {
    cursor: row.audience_cursor,
    submitted: Number(row.audience_submitted),
    heldOut: Number(row.audience_held_out),
    phase: row.run_phase,
    audienceSize: row.audience_size === null ? null : Number(row.audience_size),
    at: row.checkpointed_at === null ? null : new Date(row.checkpointed_at),
  };
}

function isoOf(at: Date | null): string | null {
  return at === null ? null : at.toISOString();
}

function dateOf(at: string | Date | null): Date | null {
  return at === null ? null : new Date(at);
}
