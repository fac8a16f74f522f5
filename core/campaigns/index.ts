export type { AudiencePage, AudienceSource, SegmentSummary } from "./audience-source.ts";
export { ANALYTICS_PREFIX, type AudienceSources, Audiences, UPLOAD_PREFIX } from "./audiences.ts";
export {
  CAMPAIGN_STATUSES,
  type Campaign,
  type CampaignDraft,
  type CampaignFilter,
  type CampaignPage,
  type CampaignProgress,
  type CampaignRunPhase,
  type CampaignStatsSummary,
  type CampaignStatus,
  type CampaignVariant,
  type VariantFigures,
  WINNER_METRICS,
  type WinnerDecision,
  type WinnerMetric,
  type WinnerRollout,
} from "./campaign.ts";
export type { CampaignEventEncoder, CampaignStatusChange } from "./campaign-events.ts";
export { CampaignManager, type CampaignManagerDeps } from "./campaign-manager.ts";
export { campaignProgress } from "./campaign-progress.ts";
export {
  type CampaignPace,
  CampaignRunner,
  type CampaignRunnerDeps,
  campaignRequestId,
} from "./campaign-runner.ts";
export {
  advance,
  assertTransition,
  type CampaignCommand,
  stepsOf,
} from "./campaign-status.ts";
export type {
  CampaignCheckpoint,
  CampaignOutcomes,
  CampaignRunOutcome,
  CampaignRunStep,
  CampaignRuns,
  CampaignStore,
  CampaignWrite,
  VariantOutcome,
} from "./campaign-store.ts";
export type {
  BadRow,
  BadRowReason,
  SegmentDraft,
  SegmentFilter,
  SegmentPage,
  SegmentStatus,
  SegmentUploadReport,
  UploadedSegment,
  UploadFormat,
} from "./segment.ts";
export { DEFAULT_UPLOAD_LIMITS, SegmentManager } from "./segment-manager.ts";
export type { SegmentStore } from "./segment-store.ts";
export { type AddMembers, readUpload, type UploadLimits } from "./segment-upload.ts";
export { UploadedAudience } from "./uploaded-audience.ts";
export { type Assignment, assignmentOf, inSample, variantKey } from "./variant-assignment.ts";
export { decideWinner } from "./winner-decision.ts";
