export { migrateClickHouse } from "./clickhouse-migrator.ts";
export {
  ClickHouseDeliveryStatsWriter,
  type DeliveryStatsWriterMetrics,
  type DeliveryStatsWriterOptions,
  type DeliveryStatsWriterState,
} from "./delivery-stats-writer.ts";
