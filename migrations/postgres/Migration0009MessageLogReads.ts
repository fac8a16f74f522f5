import { Migration } from "@mikro-orm/migrations";

/**
 * Indexes for reading the message log newest first in pages (MessageService): every page is
 * ordered by (requested_at, id), so each list has an index in that order to walk and stop
 * after a page. A user's messages get the id too (the index of 0006 stops at requested_at,
 * and is dropped as its prefix); the whole log, for support, and its failures, which support
 * looks for most, get their own.
 */
export class Migration0009MessageLogReads extends Migration {
  override name = "0009_message_log_reads";

  override up(): void {
    this.addSql(
      "CREATE INDEX idx_notification_message_log_user_page ON notification_message_log (user_id, requested_at DESC, id DESC)",
    );
    this.addSql("DROP INDEX idx_notification_message_log_user");
    this.addSql(
      "CREATE INDEX idx_notification_message_log_page ON notification_message_log (requested_at DESC, id DESC)",
    );
    this.addSql(
      "CREATE INDEX idx_notification_message_log_status_page ON notification_message_log (status, requested_at DESC, id DESC)",
    );
  }

  override down(): void {
    this.addSql("DROP INDEX idx_notification_message_log_status_page");
    this.addSql("DROP INDEX idx_notification_message_log_page");
    this.addSql(
      "CREATE INDEX idx_notification_message_log_user ON notification_message_log (user_id, requested_at DESC)",
    );
    this.addSql("DROP INDEX idx_notification_message_log_user_page");
  }
}
