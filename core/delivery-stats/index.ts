export {
  DELIVERY_STATUSES,
  type DeliveryStatsRow,
  type DeliveryStatsSink,
  type DeliveryStatus,
} from "./delivery-stats.ts";
export type {
  DeliveryStatsCount,
  DeliveryStatsDimension,
  DeliveryStatsQueries,
  DeliveryStatsQuery,
  TimeBucket,
} from "./delivery-stats-queries.ts";
export {
  bucketsIn,
  DeliveryStatsReport,
  MAX_BUCKETS,
  MAX_GROUPS,
  MAX_RANGE_DAYS,
} from "./delivery-stats-report.ts";
