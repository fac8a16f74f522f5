import type { ClickHouseMigration } from "./migration.ts";

/**
 * Unsubscribes through a campaign message's link, one row each, for the campaign report. Not
 * rows of notification_delivery_stats: an unsubscribe is no status of the message, whose way
 * stays what it was. Sorted by campaign, as only reports read it; kept as long as the
 * statistics.
 */
export const campaignUnsubscribes: ClickHouseMigration = {
  name: "0004_campaign_unsubscribes",
  statements: [
    `CREATE TABLE IF NOT EXISTS notification_campaign_unsubscribes (
      event_time DateTime64(3, 'UTC'),
      message_id UUID,
      user_id String,
      campaign_id String,
      campaign_variant LowCardinality(String),
      channel LowCardinality(String),
      notification_type LowCardinality(String)
    )
    ENGINE = MergeTree
    PARTITION BY toYYYYMM(event_time)
    ORDER BY (campaign_id, campaign_variant, event_time)
    TTL toDateTime(event_time) + INTERVAL 400 DAY`,
  ],
};
