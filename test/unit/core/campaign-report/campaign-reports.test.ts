import { describe, expect, it } from "vitest";
import {
  type CampaignReportQuery,
  CampaignReports,
  figuresOf,
  type ReportedCampaign,
  rate,
  reportBucket,
  spanOf,
  totalOf,
  type VariantCounts,
} from "../../../../core/campaign-report/index.ts";
import { DomainError, ErrorCatalog } from "../../../../core/errors.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const start = new Date("2026-11-30T10:00:00Z");
const later = (ms: number) => new Date(start.getTime() + ms);

function counts(variant: string, more: Partial<VariantCounts> = {}): VariantCounts {
  return {
    variant,
    sent: 0,
    delivered: 0,
    failed: 0,
    suppressed: 0,
    expired: 0,
    uniqueOpens: 0,
    uniqueClicks: 0,
    unsubscribes: 0,
    ...more,
  };
}

describe("rates", () => {
  it("are shares from 0 to 1, and 0 with nothing to share", () => {
    expect(rate(1, 4)).toBe(0.25);
    expect(rate(0, 0)).toBe(0);
    // A late receipt of a message whose send is not counted yet never makes a share over 1.
    expect(rate(5, 4)).toBe(1);
  });

  it("delivery over sent; opens, clicks and unsubscribes over delivered", () => {
    const figures = figuresOf(
      counts("A", { sent: 200, delivered: 100, uniqueOpens: 40, uniqueClicks: 10, unsubscribes: 2 }),
      500,
    );
    expect(figures).toMatchObject({
      audience: 500,
      deliveryRate: 0.5,
      openRate: 0.4,
      clickRate: 0.1,
      unsubscribeRate: 0.02,
    });
    expect(figuresOf(counts("A"), null)).toMatchObject({ audience: null, deliveryRate: 0, openRate: 0 });
  });

  it("the totals are the sum of the variants'", () => {
    const total = totalOf([
      counts("A", { sent: 3, uniqueOpens: 1 }),
      counts("B", { sent: 2, uniqueOpens: 2 }),
    ]);
    expect(total).toMatchObject({ sent: 5, uniqueOpens: 3, failed: 0 });
    expect(totalOf([])).toMatchObject({ sent: 0, delivered: 0 });
  });
});

describe("reportBucket", () => {
  it("chooses the shortest bucket that cuts the span into at most 240", () => {
    expect(reportBucket(start, later(30 * MINUTE))).toBe("minute");
    expect(reportBucket(start, later(4 * HOUR))).toBe("minute");
    expect(reportBucket(start, later(4 * HOUR + MINUTE))).toBe("hour");
    expect(reportBucket(start, later(9 * DAY))).toBe("hour");
    expect(reportBucket(start, later(30 * DAY))).toBe("day");
    expect(reportBucket(start, later(300 * DAY))).toBe("week");
    expect(reportBucket(start, later(20 * 365 * DAY))).toBe("month");
  });

  it("takes the bucket asked for, and refuses one that cuts the span into more than 1440", () => {
    expect(reportBucket(start, later(2 * DAY), "hour")).toBe("hour");
    expect(reportBucket(start, later(DAY), "minute")).toBe("minute");
    const refused = (() => {
      try {
        reportBucket(start, later(DAY + MINUTE), "minute");
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).entry).toBe(ErrorCatalog.validation);
  });
});

function campaign(more: Partial<ReportedCampaign> = {}): ReportedCampaign {
  return {
    startedAt: start,
    progress: { audienceSize: 10 },
    createdAt: later(-HOUR),
    ...more,
  };
}

describe("CampaignReports", () => {
  it("spans the campaign from its start (its creation before one) to now, completed or not", () => {
    const now = later(2 * HOUR);
    expect(spanOf(campaign(), now)).toEqual({ from: start, to: now });
    expect(spanOf(campaign({ startedAt: null }), now)).toEqual({ from: later(-HOUR), to: now });
    expect(spanOf(campaign(), start)).toEqual({ from: start, to: later(1) });
  });

  it("answers the variants, their sum with the campaign's audience, and the series in the chosen bucket", async () => {
    const asked: CampaignReportQuery[] = [];
    const now = later(2 * HOUR);
    const reports = new CampaignReports({
      campaigns: { get: async () => campaign() },
      queries: {
        variants: async (query) => {
          asked.push({ ...query, bucket: "minute" });
          return [
            counts("A", { sent: 3, delivered: 2, uniqueOpens: 1 }),
            counts("B", { sent: 1, delivered: 1 }),
          ];
        },
        series: async (query) => {
          asked.push(query);
          return [];
        },
      },
      now: () => now,
    });
    const report = await reports.get("c1");
    expect(report.totals).toMatchObject({
      audience: 10,
      sent: 4,
      delivered: 3,
      uniqueOpens: 1,
      openRate: 1 / 3,
    });
    expect(report.variants.map((v) => [v.variant, v.figures.audience, v.figures.sent])).toEqual([
      ["A", null, 3],
      ["B", null, 1],
    ]);
    expect(report.bucket).toBe("minute");
    // Counts from the campaign's creation to now; the series over its span.
    expect(asked).toEqual([
      { campaignId: "c1", from: later(-HOUR), to: now, bucket: "minute" },
      { campaignId: "c1", from: start, to: now, bucket: "minute" },
    ]);
  });

  it("passes on NOT_FOUND of a campaign that does not exist", async () => {
    const missing = new DomainError(ErrorCatalog.notFound, "campaign c2 does not exist");
    const reports = new CampaignReports({
      campaigns: {
        get: async () => {
          throw missing;
        },
      },
      queries: { variants: async () => [], series: async () => [] },
    });
    await expect(reports.get("c2")).rejects.toBe(missing);
  });
});
