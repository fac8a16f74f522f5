import { Migration } from "@mikro-orm/migrations";

/**
 * Open and click tracking: whether a template's emails are tracked (on unless turned off),
 * and each message's hits, first and total. The status and opened_at / clicked_at (0006)
 * keep the reader's first open and click; these count every one, and apart from them the
 * hits of privacy proxies and link scanners, which are no reader's.
 */
export class Migration0016Tracking extends Migration {
  override name = "0016_tracking";

  override up(): void {
    this.addSql(
      "ALTER TABLE notification_templates ADD COLUMN tracking_enabled BOOLEAN NOT NULL DEFAULT true",
    );
    // Constant defaults: PostgreSQL 11+ adds these without rewriting the table.
    this.addSql(`
      ALTER TABLE notification_message_log
        ADD COLUMN opens INTEGER NOT NULL DEFAULT 0,
        ADD COLUMN clicks INTEGER NOT NULL DEFAULT 0,
        ADD COLUMN machine_opens INTEGER NOT NULL DEFAULT 0,
        ADD COLUMN machine_clicks INTEGER NOT NULL DEFAULT 0`);
  }

  override down(): void {
    this.addSql(`
      ALTER TABLE notification_message_log
        DROP COLUMN machine_clicks, DROP COLUMN machine_opens, DROP COLUMN clicks, DROP COLUMN opens`);
    this.addSql("ALTER TABLE notification_templates DROP COLUMN tracking_enabled");
  }
}
