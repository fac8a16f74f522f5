import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { CampaignOutcomes, VariantOutcome } from "../../../core/campaigns/index.ts";
import { boundQuery } from "../bound-sql.ts";

// The statuses of a message that reached a provider or the inbox, whatever came after.
const REACHED = ["sent", "delivered", "opened", "clicked"];

/**
 * CampaignOutcomes over the message log (migration 0019's index by campaign and variant): the
 * log, not ClickHouse, since the decision must count what committed, with no feed in between.
 * opened_at and clicked_at are set by readers only (machine hits are counted apart).
 */
export class PostgresCampaignOutcomes implements CampaignOutcomes {
  constructor(private readonly orm: MikroORM) {}

  async byVariant(campaignId: string): Promise<VariantOutcome[]> {
    const rows = await boundQuery<{ variant: string; sent: string; opened: string; clicked: string }>(
      this.orm.em.fork() as EntityManager,
      `SELECT coalesce(campaign_variant, '') AS variant,
              count(*) FILTER (WHERE status = ANY(?::text[])) AS sent,
              count(opened_at) AS opened, count(clicked_at) AS clicked
         FROM notification_message_log
        WHERE campaign_id = ?::uuid
        GROUP BY campaign_variant`,
      [REACHED, campaignId],
    );
    return rows.map((row) => ({
      variant: row.variant,
      sent: Number(row.sent),
      opened: Number(row.opened),
      clicked: Number(row.clicked),
    }));
  }
}
