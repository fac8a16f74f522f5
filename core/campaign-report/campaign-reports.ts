import type { Campaign, CampaignProgress } from "../campaigns/index.ts";
import type { TimeBucket } from "../delivery-stats/index.ts";
import { MAX_GROUPS } from "../delivery-stats/index.ts";
import { type CampaignReport, figuresOf, totalOf } from "./campaign-report.ts";
import type { CampaignReportQueries } from "./campaign-report-queries.ts";
import { reportBucket } from "./report-bucket.ts";

/** What a report reads of the campaign itself. */
export type ReportedCampaign = Pick<Campaign, "createdAt" | "startedAt"> & {
  progress?: Pick<CampaignProgress, "audienceSize">;
};

export interface CampaignReportsDeps {
  /** Throws NOT_FOUND for a campaign that does not exist. */
  campaigns: { get(id: string): Promise<ReportedCampaign> };
  queries: CampaignReportQueries;
  now?: () => Date;
}

/**
 * How a campaign did: its counts per variant from the statistics store, their sum, the
 * rates, and the changes over time. The audience is the campaign's own (its runner's
 * progress); the store knows only who got a message.
 */
export class CampaignReports {
  private readonly now: () => Date;

  constructor(private readonly deps: CampaignReportsDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async get(campaignId: string, bucket?: TimeBucket): Promise<CampaignReport> {
    const campaign = await this.deps.campaigns.get(campaignId);
    const { from, to } = spanOf(campaign, this.now());
    const chosen = reportBucket(from, to, bucket);
    const [variants, series] = await Promise.all([
      this.deps.queries.variants({ campaignId, from: campaign.createdAt, to }),
      this.deps.queries.series({ campaignId, from, to, bucket: chosen }, MAX_GROUPS),
    ]);
    return {
      campaignId,
      totals: figuresOf(totalOf(variants), campaign.progress?.audienceSize ?? null),
      variants: variants.map(({ variant, ...counts }) => ({ variant, figures: figuresOf(counts, null) })),
      bucket: chosen,
      series,
      from,
      to,
    };
  }
}

/**
 * From its start (or creation, before one) to now: its messages are dispatched, delivered and
 * read after the runner completed it, so its completion is no end of what the series shows.
 */
export function spanOf(campaign: ReportedCampaign, now: Date): { from: Date; to: Date } {
  const from = campaign.startedAt ?? campaign.createdAt;
  return { from, to: new Date(Math.max(now.getTime(), from.getTime() + 1)) };
}
