import { Migration } from "@mikro-orm/migrations";

/**
 * The frequency cap counts through the index of each user's messages by time
 * (idx_notification_message_log_user_page), which has every campaign message too: its own
 * index of campaign messages cost every campaign message two more index entries (its
 * insert and its non-HOT `sent` update) for a query that reads the rows anyway, for
 * their status.
 */
export class Migration0020FrequencyCapByUserIndex extends Migration {
  override name = "0020_frequency_cap_by_user_index";

  override up(): void {
    this.addSql("DROP INDEX IF EXISTS idx_notification_message_log_campaign_user");
  }

  override down(): void {
    this.addSql(
      "CREATE INDEX idx_notification_message_log_campaign_user ON notification_message_log (user_id, requested_at DESC) WHERE campaign_id IS NOT NULL",
    );
  }
}
