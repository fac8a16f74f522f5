import type { Channel } from "../channels.ts";
import type { DeliveryStatus } from "./delivery-stats.ts";

/** What statistics can be grouped by: the columns of a status change that have few values. */
export type DeliveryStatsDimension =
  | "status"
  | "channel"
  | "templateName"
  | "templateVersion"
  | "provider"
  | "campaignId";

export type TimeBucket = "minute" | "hour" | "day" | "week" | "month";

export interface DeliveryStatsQuery {
  /** Status changes at or after this instant… */
  from: Date;
  /** …and before this one. */
  to: Date;
  /** None: one count per group over the whole range. */
  bucket?: TimeBucket;
  /** Distinct; in the order the answer is sorted by (after the bucket). */
  groupBy: readonly DeliveryStatsDimension[];
  /** Each filter keeps what matches one of its values; an empty one keeps everything. */
  channels: readonly Channel[];
  statuses: readonly DeliveryStatus[];
  templateNames: readonly string[];
  campaignIds: readonly string[];
}

/** One count. A dimension not grouped by is absent. */
export interface DeliveryStatsCount {
  /** Absent without buckets. */
  bucketStart?: Date;
  status?: DeliveryStatus;
  channel?: Channel;
  templateName?: string;
  templateVersion?: number;
  /** Empty where no provider was involved. */
  provider?: string;
  /** Empty outside a campaign. */
  campaignId?: string;
  /**
   * Distinct message ids among the group's status changes: a change recorded twice (a
   * retried batch, a provider reporting twice) counts once.
   */
  messages: number;
}

/**
 * Where delivery statistics are counted (ClickHouse). Answers at most `limit` counts,
 * ordered by bucket then by `groupBy`; `limit` + 1 tells the caller there are more.
 */
export interface DeliveryStatsQueries {
  count(query: DeliveryStatsQuery, limit: number): Promise<DeliveryStatsCount[]>;
}
