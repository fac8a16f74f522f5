import { Migration } from "@mikro-orm/migrations";

/** The frequency cap counts each user's recent campaign messages: an index of those alone. */
export class Migration0018CampaignFrequency extends Migration {
  override name = "0018_campaign_frequency";

  override up(): void {
    this.addSql(
      "CREATE INDEX idx_notification_message_log_campaign_user ON notification_message_log (user_id, requested_at DESC) WHERE campaign_id IS NOT NULL",
    );
  }

  override down(): void {
    this.addSql("DROP INDEX idx_notification_message_log_campaign_user");
  }
}
