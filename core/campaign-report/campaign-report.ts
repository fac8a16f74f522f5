import type { TimeBucket } from "../delivery-stats/index.ts";
import type { ReportPoint, VariantCounts } from "./campaign-report-queries.ts";

/** A campaign's, or a variant's, counts and the rates drawn from them. */
export interface ReportFigures extends Omit<VariantCounts, "variant"> {
  /** Null where not known: for a variant, and before the runner read the audience's size. */
  audience: number | null;
  /** delivered / sent. */
  deliveryRate: number;
  /** uniqueOpens / delivered. */
  openRate: number;
  /** uniqueClicks / delivered. */
  clickRate: number;
  /** unsubscribes / delivered. */
  unsubscribeRate: number;
}

export interface CampaignReport {
  campaignId: string;
  totals: ReportFigures;
  variants: { variant: string; figures: ReportFigures }[];
  bucket: TimeBucket;
  series: ReportPoint[];
  from: Date;
  to: Date;
}

/** A share from 0 to 1; 0 when there is nothing to share yet, rather than NaN on a chart. */
export function rate(part: number, whole: number): number {
  return whole > 0 ? Math.min(1, part / whole) : 0;
}

export function figuresOf(counts: Omit<VariantCounts, "variant">, audience: number | null): ReportFigures {
  return {
    audience,
    sent: counts.sent,
    delivered: counts.delivered,
    failed: counts.failed,
    suppressed: counts.suppressed,
    expired: counts.expired,
    uniqueOpens: counts.uniqueOpens,
    uniqueClicks: counts.uniqueClicks,
    unsubscribes: counts.unsubscribes,
    deliveryRate: rate(counts.delivered, counts.sent),
    openRate: rate(counts.uniqueOpens, counts.delivered),
    clickRate: rate(counts.uniqueClicks, counts.delivered),
    unsubscribeRate: rate(counts.unsubscribes, counts.delivered),
  };
}

const NONE: Omit<VariantCounts, "variant"> = {
  sent: 0,
  delivered: 0,
  failed: 0,
  suppressed: 0,
  expired: 0,
  uniqueOpens: 0,
  uniqueClicks: 0,
  unsubscribes: 0,
};

/**
 * The campaign's counts as the sum of its variants': a user is in one variant only
 * (assignment is by user), so per-variant distinct users add up to the campaign's.
 */
export function totalOf(variants: readonly VariantCounts[]): Omit<VariantCounts, "variant"> {
  const total = { ...NONE };
  for (const counts of variants) {
    for (const key of Object.keys(NONE) as (keyof typeof NONE)[]) total[key] += counts[key];
  }
  return total;
}
