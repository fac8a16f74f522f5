import { Migration } from "@mikro-orm/migrations";

/**
 * The spec's notification_campaigns (§4.2.1) as its DDL gives it, ids from gen_random_uuid()
 * as in every table here (built into PostgreSQL 13+, where uuid_generate_v4 needs the
 * uuid-ossp extension), then what the service adds: who created it whatever the form of
 * their id (created_by is a UUID, and not every caller's subject is one), who changed it
 * last, A/B variants and the hold-out, the campaign's own rate, tracking, and the revision
 * that optimistic updates compare.
 */
export class Migration0014Campaigns extends Migration {
  override name = "0014_campaigns";

  override up(): void {
    this.addSql(`
      CREATE TABLE notification_campaigns (
        id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        name VARCHAR(255) NOT NULL,
        description TEXT,
        target_segment_id VARCHAR(255),
        template_id UUID NOT NULL REFERENCES notification_templates(id) ON DELETE RESTRICT,
        status VARCHAR(50) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'active', 'paused', 'completed', 'archived')),
        scheduled_at TIMESTAMPTZ,
        started_at TIMESTAMPTZ,
        completed_at TIMESTAMPTZ,
        created_by UUID,
        stats_summary JSONB,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
    this.addSql("CREATE INDEX idx_notification_campaigns_status ON notification_campaigns(status)");
    this.addSql(
      "CREATE INDEX idx_notification_campaigns_scheduled_at ON notification_campaigns(scheduled_at) WHERE status = 'scheduled'",
    );
    this.addSql(
      "COMMENT ON TABLE notification_campaigns IS 'Маркетинговые и информационные кампании уведомлений.'",
    );
    this.addSql(`
      ALTER TABLE notification_campaigns
        ADD COLUMN created_by_subject VARCHAR(255) NOT NULL,
        ADD COLUMN updated_by VARCHAR(255) NOT NULL,
        -- [{templateId, templateVersion, sharePercent}], none for a campaign of one template.
        ADD COLUMN variants JSONB NOT NULL DEFAULT '[]',
        ADD COLUMN holdout_percent SMALLINT NOT NULL DEFAULT 0 CHECK (holdout_percent BETWEEN 0 AND 99),
        ADD COLUMN send_rate_per_second INTEGER CHECK (send_rate_per_second > 0),
        ADD COLUMN tracking_enabled BOOLEAN NOT NULL DEFAULT true,
        ADD COLUMN revision BIGINT NOT NULL DEFAULT 1`);
    // ListCampaigns pages newest first.
    this.addSql(
      "CREATE INDEX idx_notification_campaigns_created ON notification_campaigns (created_at DESC, id DESC)",
    );
  }

  override down(): void {
    this.addSql("DROP TABLE notification_campaigns");
  }
}
