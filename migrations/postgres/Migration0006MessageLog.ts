import { Migration } from "@mikro-orm/migrations";

/**
 * The spec's notification_message_log, plus what the pipeline needs to trace a message
 * (request and correlation ids, priority, template version, attempts, last error). The
 * recipient is sealed (AES-256-GCM, key id in the value) with a keyed hash beside it for
 * lookups; it is never stored in clear.
 */
export class Migration0006MessageLog extends Migration {
  override name = "0006_message_log";

  override up(): void {
    this.addSql(`
      CREATE TABLE notification_message_log (
        id UUID PRIMARY KEY,
        request_id VARCHAR(128) NOT NULL,
        correlation_id VARCHAR(128),
        -- The platform's user id as the send request gives it (not necessarily a UUID).
        user_id VARCHAR(128),
        template_id UUID,
        template_version INTEGER,
        campaign_id UUID,
        channel_type VARCHAR(16) NOT NULL
          CHECK (channel_type IN ('email', 'sms', 'push_fcm', 'push_apns', 'in_app')),
        provider_name VARCHAR(64),
        recipient_address TEXT NOT NULL,
        recipient_hash CHAR(64),
        priority VARCHAR(8) NOT NULL CHECK (priority IN ('high', 'normal', 'low')),
        status VARCHAR(16) NOT NULL CHECK (status IN ('scheduled', 'queued', 'sent', 'delivered', 'opened',
          'clicked', 'failed', 'expired', 'suppressed', 'cancelled')),
        status_details TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        requested_at TIMESTAMPTZ NOT NULL,
        sent_at TIMESTAMPTZ,
        delivered_at TIMESTAMPTZ,
        opened_at TIMESTAMPTZ,
        clicked_at TIMESTAMPTZ,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
    this.addSql(
      "CREATE INDEX idx_notification_message_log_user ON notification_message_log (user_id, requested_at DESC)",
    );
    this.addSql("CREATE INDEX idx_notification_message_log_request ON notification_message_log (request_id)");
    this.addSql(
      "CREATE INDEX idx_notification_message_log_correlation ON notification_message_log (correlation_id) WHERE correlation_id IS NOT NULL",
    );
    this.addSql(
      "CREATE INDEX idx_notification_message_log_recipient ON notification_message_log (recipient_hash) WHERE recipient_hash IS NOT NULL",
    );
    this.addSql(
      "COMMENT ON TABLE notification_message_log IS 'Журнал отправленных уведомлений; адрес получателя зашифрован.'",
    );
  }

  override down(): void {
    this.addSql("DROP TABLE notification_message_log");
  }
}
