import type { ClickHouseMigration } from "./migration.ts";

/**
 * What the stats writer needs of notification_delivery_stats: the reason of a failed
 * or suppressed status beside its code, and deduplication of retried inserts. The
 * writer sends each batch with an insert_deduplication_token and, after a failure it
 * cannot tell from a lost answer, sends the same batch with the same token again; a
 * non-replicated MergeTree only remembers the tokens of its last
 * non_replicated_deduplication_window inserts, so the window covers far more batches
 * than a retry spans.
 */
export const deliveryStatsReasonDedup: ClickHouseMigration = {
  name: "0002_delivery_stats_reason_dedup",
  statements: [
    "ALTER TABLE notification_delivery_stats ADD COLUMN IF NOT EXISTS reason String DEFAULT '' AFTER error_code",
    "ALTER TABLE notification_delivery_stats MODIFY SETTING non_replicated_deduplication_window = 10000",
  ],
};
