import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { CampaignMessage } from "../../../core/campaign-report/index.ts";
import { boundQuery } from "../bound-sql.ts";

/** The campaign of a message, from the message log. */
export class PostgresCampaignMessages {
  constructor(private readonly orm: MikroORM) {}

  async campaignMessage(messageId: string): Promise<CampaignMessage | undefined> {
    const [row] = await boundQuery<{
      user_id: string | null;
      campaign_id: string;
      campaign_variant: string | null;
    }>(
      this.orm.em.fork() as EntityManager,
      `SELECT user_id, campaign_id, campaign_variant FROM notification_message_log
        WHERE id = ?::uuid AND campaign_id IS NOT NULL`,
      [messageId],
    );
    if (!row?.user_id) return undefined;
    return { userId: row.user_id, campaignId: row.campaign_id, campaignVariant: row.campaign_variant ?? "" };
  }
}
