import { Migration } from "@mikro-orm/migrations";

/**
 * Templates and their numbered versions. A deleted template keeps its rows (the
 * message log refers to them) and frees its name for a new template.
 */
export class Migration0002Templates extends Migration {
  override name = "0002_templates";

  override up(): void {
    this.addSql(`
      CREATE TABLE notification_templates (
        id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        name VARCHAR(128) NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        channel_type VARCHAR(16) NOT NULL
          CHECK (channel_type IN ('email', 'sms', 'push_fcm', 'push_apns', 'in_app')),
        default_language_code VARCHAR(35) NOT NULL,
        example_variables JSONB NOT NULL DEFAULT '{}',
        active_version INTEGER NOT NULL DEFAULT 0,
        latest_version INTEGER NOT NULL DEFAULT 0,
        revision BIGINT NOT NULL DEFAULT 1,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        deleted_at TIMESTAMPTZ
      )`);
    this.addSql(
      "CREATE UNIQUE INDEX uq_notification_templates_name ON notification_templates (name) WHERE deleted_at IS NULL",
    );
    this.addSql(
      "CREATE INDEX idx_notification_templates_channel_name ON notification_templates (channel_type, name) WHERE deleted_at IS NULL",
    );
    this.addSql("COMMENT ON TABLE notification_templates IS 'Шаблоны уведомлений.'");
    this.addSql(`
      CREATE TABLE notification_template_versions (
        template_id UUID NOT NULL REFERENCES notification_templates (id) ON DELETE RESTRICT,
        version INTEGER NOT NULL CHECK (version > 0),
        locales JSONB NOT NULL,
        activated_at TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (template_id, version)
      )`);
    this.addSql(
      "COMMENT ON TABLE notification_template_versions IS 'Версии шаблонов с содержимым по локалям; активированная версия неизменна.'",
    );
  }

  override down(): void {
    this.addSql("DROP TABLE notification_template_versions");
    this.addSql("DROP TABLE notification_templates");
  }
}
