export {
  type CampaignReport,
  figuresOf,
  type ReportFigures,
  rate,
  totalOf,
} from "./campaign-report.ts";
export type {
  CampaignReportQueries,
  CampaignReportQuery,
  ReportPoint,
  VariantCounts,
} from "./campaign-report-queries.ts";
export {
  CampaignReports,
  type CampaignReportsDeps,
  type ReportedCampaign,
  spanOf,
} from "./campaign-reports.ts";
export {
  type CampaignMessage,
  type CampaignUnsubscribe,
  CampaignUnsubscribes,
  type CampaignUnsubscribesDeps,
} from "./campaign-unsubscribes.ts";
export { CHOSEN_MAX_BUCKETS, reportBucket } from "./report-bucket.ts";
export {
  type CampaignSummaries,
  CampaignSummaryRefresh,
  REFRESHED_AFTER_COMPLETION_MS,
  REFRESHED_PER_ROUND,
  type RefreshableCampaign,
  type SummaryFigures,
} from "./summary-refresh.ts";
