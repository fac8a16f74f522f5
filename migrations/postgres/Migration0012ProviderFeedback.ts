import { Migration } from "@mikro-orm/migrations";

/**
 * What providers tell us after a send needs their id for the message, and what they tell of
 * an address (a hard bounce, a complaint, a dead number or token) needs a place to stay: the
 * suppression list, one entry per channel and address, the address sealed as in the message
 * log and found by the same keyed hash.
 */
export class Migration0012ProviderFeedback extends Migration {
  override name = "0012_provider_feedback";

  override up(): void {
    this.addSql("ALTER TABLE notification_message_log ADD COLUMN provider_message_id VARCHAR(255)");
    this.addSql(`CREATE INDEX idx_notification_message_log_provider_message
      ON notification_message_log (provider_name, provider_message_id) WHERE provider_message_id IS NOT NULL`);
    // What a provider without callbacks is asked about: its messages sent and not yet reported on.
    this.addSql(`CREATE INDEX idx_notification_message_log_awaiting_report
      ON notification_message_log (provider_name, sent_at) WHERE status = 'sent'`);
    this.addSql(`
      CREATE TABLE notification_suppressions (
        id UUID PRIMARY KEY,
        channel_type VARCHAR(16) NOT NULL
          CHECK (channel_type IN ('email', 'sms', 'push_fcm', 'push_apns', 'in_app')),
        recipient_hash CHAR(64) NOT NULL,
        recipient_address TEXT NOT NULL,
        reason VARCHAR(32) NOT NULL
          CHECK (reason IN ('hard_bounce', 'complaint', 'invalid_destination', 'manual')),
        details TEXT,
        -- The provider that reported it, or the admin who added it.
        source VARCHAR(320) NOT NULL,
        message_id UUID,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        UNIQUE (channel_type, recipient_hash)
      )`);
    this.addSql(
      "CREATE INDEX idx_notification_suppressions_created ON notification_suppressions (created_at DESC, id DESC)",
    );
    this.addSql(
      "COMMENT ON TABLE notification_suppressions IS 'Адреса, на которые канал не отправляет: жёсткий отказ, жалоба, несуществующий адрес; адрес зашифрован.'",
    );
  }

  override down(): void {
    this.addSql("DROP TABLE notification_suppressions");
    this.addSql("DROP INDEX idx_notification_message_log_awaiting_report");
    this.addSql("DROP INDEX idx_notification_message_log_provider_message");
    this.addSql("ALTER TABLE notification_message_log DROP COLUMN provider_message_id");
  }
}
