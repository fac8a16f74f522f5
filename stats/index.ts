export { ClickHouseCampaignReportQueries } from "./campaign-report-queries.ts";
export { ClickHouseCampaignUnsubscribes } from "./campaign-unsubscribes.ts";
export { migrateClickHouse } from "./clickhouse-migrator.ts";
export { ClickHouseDeliveryStatsQueries, countStatement } from "./delivery-stats-queries.ts";
export {
  ClickHouseDeliveryStatsWriter,
  type DeliveryStatsWriterMetrics,
  type DeliveryStatsWriterOptions,
  type DeliveryStatsWriterState,
} from "./delivery-stats-writer.ts";
