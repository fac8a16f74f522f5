import { Migration } from "@mikro-orm/migrations";

/**
 * The campaign runner's checkpoint on its campaign: where the audience's reading stopped (the
 * source's cursor, "" before the first page), how many members were submitted, the audience's
 * size when its source knows it, and when the runner last checkpointed (for the rate and ETA);
 * and when a runner may take it next, so that a campaign whose page failed waits a while
 * instead of starving the others.
 */
export class Migration0017CampaignRunner extends Migration {
  override name = "0017_campaign_runner";

  override up(): void {
    this.addSql(`
      ALTER TABLE notification_campaigns
        ADD COLUMN audience_cursor TEXT NOT NULL DEFAULT '',
        ADD COLUMN audience_submitted BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN audience_size BIGINT,
        ADD COLUMN checkpointed_at TIMESTAMPTZ,
        ADD COLUMN run_after TIMESTAMPTZ`);
  }

  override down(): void {
    this.addSql(`
      ALTER TABLE notification_campaigns
        DROP COLUMN run_after, DROP COLUMN checkpointed_at, DROP COLUMN audience_size, DROP COLUMN audience_submitted, DROP COLUMN audience_cursor`);
  }
}
