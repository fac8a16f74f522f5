/** Where a campaign stands (the notification_campaigns table's words); campaign-status.ts says where it may go. */
export type CampaignStatus = "draft" | "scheduled" | "active" | "paused" | "completed" | "archived";

export const CAMPAIGN_STATUSES: readonly CampaignStatus[] = [
  "draft",
  "scheduled",
  "active",
  "paused",
  "completed",
  "archived",
];

/** One A/B variant: a template, or one of its versions, sent to a share of the audience. */
export interface CampaignVariant {
  templateId: string;
  /** 0: the template's active version when the message is sent. */
  templateVersion: number;
  /** In percent; the shares of all variants and the hold-out add up to 100. */
  sharePercent: number;
}

/** What a winner rollout compares the variants' samples by: opens or clicks per message sent. */
export type WinnerMetric = "open_rate" | "click_rate";

export const WINNER_METRICS: readonly WinnerMetric[] = ["open_rate", "click_rate"];

/**
 * Send the variants to a sample of the audience first, wait, then send the variant whose
 * sample did best to the rest.
 */
export interface WinnerRollout {
  /** The share of the audience, in percent, that the variants are tried on (the hold-out left out). */
  samplePercent: number;
  /** How long after the sample was submitted the winner is picked. */
  waitSeconds: number;
  metric: WinnerMetric;
}

/** How one variant's messages did, as the winner rollout counted them. */
export interface VariantFigures {
  /** "A", "B", … in the order of the campaign's variants. */
  variant: string;
  templateId: string;
  /** Its messages that reached a provider or the inbox. */
  sent: number;
  /** Of those, how many were opened (clicked) by their reader, machines not counted. */
  opened: number;
  clicked: number;
  /** The metric's rate: opened or clicked over sent; 0 when none was sent. */
  rate: number;
}

/** The winner rollout's pick, with the figures it was made on. */
export interface WinnerDecision {
  metric: WinnerMetric;
  /** The variant sent to the rest of the audience. */
  winner: string;
  decidedAt: Date;
  variants: VariantFigures[];
}

/**
 * Where a campaign's run is: sending every member their variant at once (`all`), or, with a
 * winner rollout, sending to the sample, waiting for the decision, then sending the winner to
 * the rest.
 */
export type CampaignRunPhase = "all" | "sample" | "deciding" | "rollout";

/** What a campaign achieved so far, in messages; kept by the runner. */
export interface CampaignStatsSummary {
  sent: number;
  delivered: number;
  opened: number;
}

/** Where a campaign's sending stands, as of its runner's last checkpoint. */
export interface CampaignProgress {
  /** Null when the audience's source does not say ahead of reading it. */
  audienceSize: number | null;
  /** Audience members submitted to the send pipeline so far. */
  submitted: number;
  /** Members submitted a second since the campaign started, pauses included. */
  ratePerSecond: number;
  /** Members the hold-out kept from any message, so far. */
  heldOut: number;
  phase: CampaignRunPhase;
  /** Seconds until the whole audience is submitted at that rate; null while unknown. */
  etaSeconds: number | null;
}

/** What a marketer sets on a campaign while it is a draft; the rest is the service's. */
export interface CampaignDraft {
  name: string;
  description: string;
  /** The audience; empty until chosen, needed to schedule. */
  targetSegmentId: string;
  /** The template of a campaign without variants; with variants, the first variant's. */
  templateId: string;
  /** None, or two or more. */
  variants: CampaignVariant[];
  /** The share of the audience that gets nothing, in percent. */
  holdoutPercent: number;
  /** Only with variants; null: each variant goes to its whole share at once. */
  winnerRollout: WinnerRollout | null;
  /** The campaign's own limit; null: only the service's and the providers' limits. */
  sendRatePerSecond: number | null;
  trackingEnabled: boolean;
}

export interface Campaign extends CampaignDraft {
  id: string;
  status: CampaignStatus;
  scheduledAt: Date | null;
  /** When it first became active; a resume keeps it. */
  startedAt: Date | null;
  completedAt: Date | null;
  /** The creator's subject: a JWT's sub or an API key's id. */
  createdBy: string;
  /** Who changed it last; "system" for the service's own changes. */
  updatedBy: string;
  /** Null until the campaign has sent anything. */
  statsSummary: CampaignStatsSummary | null;
  /** The winner rollout's decision; null until it is made. */
  winnerDecision: WinnerDecision | null;
  /** As the store reads it (the runner's, never written with the campaign); absent on a campaign not read back yet. */
  progress?: CampaignProgress;
  /** Increases with every change, each status change counting as one. */
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Every filter set must match; none lists every campaign. */
export interface CampaignFilter {
  status?: CampaignStatus;
  createdBy?: string;
  /** A part of the name, in any case. */
  nameContains?: string;
  /** Scheduled at or after. */
  scheduledFrom?: Date;
  /** Scheduled before. */
  scheduledTo?: Date;
  pageSize: number;
  pageToken?: string;
}

export interface CampaignPage {
  /** Newest first: by creation time, then id. */
  campaigns: Campaign[];
  /** Empty on the last page. */
  nextPageToken: string;
}
