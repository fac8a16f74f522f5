import { Migration } from "@mikro-orm/migrations";

/**
 * Send requests waiting for their sendAtUtc. The request is sealed like a recipient (it holds
 * addresses and variables); workers release due ones with FOR UPDATE SKIP LOCKED, so several
 * can share the work and none releases a request twice.
 */
export class Migration0008ScheduledSends extends Migration {
  override name = "0008_scheduled_sends";

  override up(): void {
    this.addSql(`
      CREATE TABLE notification_scheduled_sends (
        request_id VARCHAR(128) PRIMARY KEY,
        due_at TIMESTAMPTZ NOT NULL,
        sealed_request TEXT NOT NULL,
        state VARCHAR(16) NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'released', 'cancelled')),
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        ended_at TIMESTAMPTZ
      )`);
    this.addSql(
      "CREATE INDEX idx_notification_scheduled_sends_due ON notification_scheduled_sends (due_at) WHERE state = 'waiting'",
    );
    this.addSql(
      "COMMENT ON TABLE notification_scheduled_sends IS 'Отложенные запросы на отправку до их sendAtUtc; запрос зашифрован.'",
    );
  }

  override down(): void {
    this.addSql("DROP TABLE notification_scheduled_sends");
  }
}
