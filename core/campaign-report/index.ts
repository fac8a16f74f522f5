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
export { CampaignReports, type CampaignReportsDeps, spanOf } from "./campaign-reports.ts";
export { CHOSEN_MAX_BUCKETS, reportBucket } from "./report-bucket.ts";
