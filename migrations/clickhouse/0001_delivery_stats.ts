import type { ClickHouseMigration } from "./migration.ts";

/**
 * One row per status change of a message. Partitioned by month so old months drop
 * whole; ordered for the usual question "how did channel X do over time".
 */
export const deliveryStats: ClickHouseMigration = {
  name: "0001_delivery_stats",
  statements: [
    `CREATE TABLE IF NOT EXISTS notification_delivery_stats (
      event_time DateTime64(3, 'UTC'),
      message_id UUID,
      request_id String,
      user_id String,
      template_name LowCardinality(String),
      template_version UInt32,
      language LowCardinality(String),
      campaign_id String,
      campaign_variant LowCardinality(String),
      channel LowCardinality(String),
      provider LowCardinality(String),
      priority LowCardinality(String),
      status LowCardinality(String),
      error_code LowCardinality(String),
      latency_ms UInt32
    )
    ENGINE = MergeTree
    PARTITION BY toYYYYMM(event_time)
    ORDER BY (channel, status, event_time, message_id)
    TTL toDateTime(event_time) + INTERVAL 400 DAY`,
  ],
};
