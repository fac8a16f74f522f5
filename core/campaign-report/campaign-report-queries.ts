import type { TimeBucket } from "../delivery-stats/index.ts";

/** What the statistics store counts of one variant of a campaign ("" for a campaign without variants). */
export interface VariantCounts {
  variant: string;
  /** Distinct messages that reached each stage (a later stage counts for the earlier ones: see the port). */
  sent: number;
  delivered: number;
  failed: number;
  suppressed: number;
  expired: number;
  /** Distinct users with a human open or click: machine hits never reach the store. */
  uniqueOpens: number;
  uniqueClicks: number;
  unsubscribes: number;
}

/** The status changes of one bucket of one variant, in distinct messages. */
export interface ReportPoint {
  bucketStart: Date;
  variant: string;
  sent: number;
  delivered: number;
  failed: number;
  opened: number;
  clicked: number;
}

export interface CampaignReportQuery {
  campaignId: string;
  /** No status change of the campaign precedes this instant (its creation), so the store reads from here. */
  from: Date;
  /** The span the series covers ends here. */
  to: Date;
  bucket: TimeBucket;
}

/**
 * Where campaign reports are counted (ClickHouse). `sent` counts messages that reached sent,
 * delivered, opened or clicked, and `delivered` those that reached one of the last three,
 * as a provider's report can come before our record of the earlier stage, or never.
 */
export interface CampaignReportQueries {
  /** One row per variant that has any status change, ordered by variant. */
  variants(query: Omit<CampaignReportQuery, "bucket">): Promise<VariantCounts[]>;
  /** Ordered by bucket, then variant; at most `limit` points. */
  series(query: CampaignReportQuery, limit: number): Promise<ReportPoint[]>;
}
