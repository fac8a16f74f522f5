import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { CampaignMessageCounts } from "../../../core/sending/index.ts";
import { boundQuery } from "../bound-sql.ts";

/** CampaignMessageCounts over the message log, through its index of each user's messages by time. */
export class PostgresCampaignMessageCounts implements CampaignMessageCounts {
  constructor(private readonly orm: MikroORM) {}

  async countSince(userIds: string[], since: Date): Promise<Map<string, number>> {
    // Bound, not written into the SQL: the ids are one array parameter.
    const rows = await boundQuery<{ user_id: string; count: string }>(
      this.orm.em.fork() as EntityManager,
      `SELECT user_id, count(*) AS count FROM notification_message_log
        WHERE campaign_id IS NOT NULL AND user_id = ANY(?::varchar[]) AND requested_at >= ?
          AND status <> 'suppressed'
        GROUP BY user_id`,
      [userIds, since.toISOString()],
    );
    return new Map(rows.map((row) => [row.user_id, Number(row.count)]));
  }
}
