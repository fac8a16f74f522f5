import { Migration } from "@mikro-orm/migrations";

/**
 * A/B variants at run time: each campaign message records the variant it is of ("A", "B", …),
 * and the winner rollout counts a campaign's sample by variant, hence the index. The campaign
 * keeps its winner rollout's settings, the decision once made with its figures, the phase of
 * its run (all at once, or sample, deciding, rollout) and how many members the hold-out kept.
 */
export class Migration0019CampaignVariants extends Migration {
  override name = "0019_campaign_variants";

  override up(): void {
    this.addSql("ALTER TABLE notification_message_log ADD COLUMN campaign_variant VARCHAR(8)");
    this.addSql(
      "CREATE INDEX idx_notification_message_log_campaign_variant ON notification_message_log (campaign_id, campaign_variant) WHERE campaign_id IS NOT NULL",
    );
    this.addSql(`
      ALTER TABLE notification_campaigns
        -- {samplePercent, waitSeconds, metric}; null: every variant goes to its whole share.
        ADD COLUMN winner_rollout JSONB,
        -- {metric, winner, decidedAt, variants: [{variant, templateId, sent, opened, clicked, rate}]}
        ADD COLUMN ab_decision JSONB,
        ADD COLUMN run_phase VARCHAR(16) NOT NULL DEFAULT 'all' CHECK (run_phase IN ('all', 'sample', 'deciding', 'rollout')),
        ADD COLUMN audience_held_out BIGINT NOT NULL DEFAULT 0`);
  }

  override down(): void {
    this.addSql(`
      ALTER TABLE notification_campaigns
        DROP COLUMN audience_held_out, DROP COLUMN run_phase, DROP COLUMN ab_decision, DROP COLUMN winner_rollout`);
    this.addSql("DROP INDEX idx_notification_message_log_campaign_variant");
    this.addSql("ALTER TABLE notification_message_log DROP COLUMN campaign_variant");
  }
}
