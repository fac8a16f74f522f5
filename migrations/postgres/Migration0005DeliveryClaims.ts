import { Migration } from "@mikro-orm/migrations";

/**
 * One row per delivery a send request asked for (its recipient on one channel), claimed
 * before anything is sent: a redelivered or repeated request finds its claim and never
 * sends twice, and the message id given on the first claim is the one every later step,
 * the provider's idempotency key included, carries.
 */
export class Migration0005DeliveryClaims extends Migration {
  override name = "0005_delivery_claims";

  override up(): void {
    this.addSql(`
      CREATE TABLE notification_delivery_claims (
        request_id VARCHAR(128) NOT NULL,
        recipient_key VARCHAR(255) NOT NULL,
        channel VARCHAR(16) NOT NULL
          CHECK (channel IN ('email', 'sms', 'push_fcm', 'push_apns', 'in_app')),
        message_id UUID NOT NULL DEFAULT gen_random_uuid() UNIQUE,
        claimed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (request_id, recipient_key, channel)
      )`);
    // Claims are kept as long as a producer may redeliver; old ones are dropped by time.
    this.addSql(
      "CREATE INDEX idx_notification_delivery_claims_claimed_at ON notification_delivery_claims (claimed_at)",
    );
    this.addSql(
      "COMMENT ON TABLE notification_delivery_claims IS 'Заявки на доставку: идемпотентность по request_id × получатель × канал.'",
    );
  }

  override down(): void {
    this.addSql("DROP TABLE notification_delivery_claims");
  }
}
