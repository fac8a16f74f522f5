import { Migration } from "@mikro-orm/migrations";

/**
 * The in-app inbox: each user's messages numbered 1, 2, 3… in the order they were stored, so
 * that a client that reconnects with the last number it saw is sent exactly what it missed.
 * The next number comes from the user's head row, locked by the insert that takes it, so
 * numbers commit in their order and none is skipped.
 */
export class Migration0013Inbox extends Migration {
  override name = "0013_inbox";

  override up(): void {
    this.addSql(`
      CREATE TABLE notification_inbox_heads (
        user_id UUID PRIMARY KEY,
        last_seq BIGINT NOT NULL
      )`);
    this.addSql(`
      CREATE TABLE notification_inbox (
        user_id UUID NOT NULL,
        seq BIGINT NOT NULL,
        message_id UUID NOT NULL UNIQUE,
        notification_type VARCHAR(255) NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        delivered_at TIMESTAMPTZ,
        read_at TIMESTAMPTZ,
        archived_at TIMESTAMPTZ,
        PRIMARY KEY (user_id, seq)
      )`);
    // The unread count and the unread filter read only these rows.
    this.addSql(`CREATE INDEX idx_notification_inbox_unread
      ON notification_inbox (user_id, seq) WHERE read_at IS NULL AND archived_at IS NULL`);
    this.addSql(
      "COMMENT ON TABLE notification_inbox IS 'In-app уведомления пользователя, пронумерованные по порядку сохранения (seq).'",
    );
  }

  override down(): void {
    this.addSql("DROP TABLE notification_inbox");
    this.addSql("DROP TABLE notification_inbox_heads");
  }
}
