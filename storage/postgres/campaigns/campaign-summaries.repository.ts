import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type {
  CampaignSummaries,
  RefreshableCampaign,
  SummaryFigures,
} from "../../../core/campaign-report/index.ts";
import { boundQuery } from "../bound-sql.ts";

// The advisory lock a refresh round holds for its transaction: one worker's round at a time.
const REFRESH_LOCK = 0x63737472; // "cstr"

/**
 * CampaignSummaries over notification_campaigns.stats_summary. A write merges its keys into
 * the JSON and skips a row its runner holds (FOR UPDATE SKIP LOCKED), so a refresh never
 * waits on a page being sent; it changes neither revision nor updated_at, which are a
 * person's or a status's changes.
 */
export class PostgresCampaignSummaries implements CampaignSummaries {
  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }

  exclusively<T>(round: () => Promise<T>): Promise<T | undefined> {
    return this.em().transactional(async (em) => {
      const [lock] = await boundQuery<{ held: boolean }>(
        em as EntityManager,
        "SELECT pg_try_advisory_xact_lock(?) AS held",
        [REFRESH_LOCK],
      );
      return lock?.held ? await round() : undefined;
    });
  }

  async refreshable(completedSince: Date, limit: number): Promise<RefreshableCampaign[]> {
    const rows = await boundQuery<{ id: string; created_at: Date }>(
      this.em(),
      `SELECT id, created_at FROM notification_campaigns
        WHERE status IN ('active', 'paused') OR (status = 'completed' AND completed_at >= ?)
        ORDER BY created_at DESC LIMIT ?`,
      [completedSince.toISOString(), limit],
    );
    return rows.map((row) => ({ id: row.id, createdAt: new Date(row.created_at) }));
  }

  async write(campaignId: string, figures: SummaryFigures): Promise<boolean> {
    const rows = await boundQuery<{ id: string }>(
      this.em(),
      `UPDATE notification_campaigns
          SET stats_summary = coalesce(stats_summary, '{"sent":0,"delivered":0,"opened":0}'::jsonb)
                || jsonb_build_object('delivered', ?::bigint, 'opened', ?::bigint)
        WHERE id = (SELECT id FROM notification_campaigns WHERE id = ? FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [figures.delivered, figures.opened, campaignId],
    );
    return rows.length > 0;
  }
}
