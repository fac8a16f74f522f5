import { totalOf } from "./campaign-report.ts";
import type { CampaignReportQueries } from "./campaign-report-queries.ts";

/** A campaign whose summary is kept current. */
export interface RefreshableCampaign {
  id: string;
  createdAt: Date;
}

/** What of stats_summary the refresh owns: `sent` stays the runner's (see CampaignSummaryRefresh). */
export interface SummaryFigures {
  delivered: number;
  /** Distinct users with a human open or click. */
  opened: number;
}

export interface CampaignSummaries {
  /**
   * Runs the round unless another worker's is under way (answering undefined then), so the
   * campaigns' rows and the statistics are read once a round, however many workers run.
   */
  exclusively<T>(round: () => Promise<T>): Promise<T | undefined>;
  /** Active and paused campaigns, and those completed at or after `completedSince`; at most `limit`. */
  refreshable(completedSince: Date, limit: number): Promise<RefreshableCampaign[]>;
  /**
   * Writes the figures into the campaign's summary, unless its row is locked (its runner is
   * sending a page): answers false then, and the next round writes it.
   */
  write(campaignId: string, figures: SummaryFigures): Promise<boolean>;
}

/** Opens and late receipts keep coming after a campaign completes; a week later they are few. */
export const REFRESHED_AFTER_COMPLETION_MS = 7 * 86_400_000;
/** Campaigns refreshed a round; more running at once are refreshed in turn, as they are listed. */
export const REFRESHED_PER_ROUND = 200;

/**
 * Keeps notification_campaigns.stats_summary current from the statistics store, so a
 * campaign's list and GetCampaign show how it does without asking ClickHouse. The runner
 * writes `sent` itself (its submitted count, at every page and at completion) and carries
 * the other fields over under the row's lock; this writes only the others, so neither
 * undoes the other.
 */
export class CampaignSummaryRefresh {
  private readonly now: () => Date;

  constructor(
    private readonly deps: {
      summaries: CampaignSummaries;
      queries: Pick<CampaignReportQueries, "variants">;
      now?: () => Date;
    },
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  /** One round, unless another worker's is under way; answers how many summaries were written. */
  async refresh(): Promise<number> {
    return (await this.deps.summaries.exclusively(() => this.round())) ?? 0;
  }

  private async round(): Promise<number> {
    const now = this.now();
    const campaigns = await this.deps.summaries.refreshable(
      new Date(now.getTime() - REFRESHED_AFTER_COMPLETION_MS),
      REFRESHED_PER_ROUND,
    );
    let written = 0;
    for (const campaign of campaigns) {
      const total = totalOf(
        await this.deps.queries.variants({ campaignId: campaign.id, from: campaign.createdAt, to: now }),
      );
      if (
        await this.deps.summaries.write(campaign.id, {
          delivered: total.delivered,
          opened: total.uniqueOpens,
        })
      ) {
        written++;
      }
    }
    return written;
  }
}
