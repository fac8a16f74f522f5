import { describe, expect, it } from "vitest";
import {
  CampaignSummaryRefresh,
  REFRESHED_AFTER_COMPLETION_MS,
  type SummaryFigures,
  type VariantCounts,
} from "../../../../core/campaign-report/index.ts";

const now = new Date("2026-12-01T12:00:00Z");
const created = new Date("2026-11-30T12:00:00Z");

function counts(variant: string, delivered: number, uniqueOpens: number): VariantCounts {
  return {
    variant,
    sent: delivered + 1,
    delivered,
    failed: 0,
    suppressed: 0,
    expired: 0,
    uniqueOpens,
    uniqueClicks: 0,
    unsubscribes: 0,
  };
}

describe("CampaignSummaryRefresh", () => {
  it("writes delivered and opened, summed over the variants, leaving sent to the runner; a locked row is left for the next round", async () => {
    const written: [string, SummaryFigures][] = [];
    const asked: unknown[] = [];
    const refresh = new CampaignSummaryRefresh({
      summaries: {
        exclusively: (round) => round(),
        refreshable: async (since, limit) => {
          asked.push([since, limit]);
          return [
            { id: "c1", createdAt: created },
            { id: "locked", createdAt: created },
          ];
        },
        write: async (id, figures) => {
          written.push([id, figures]);
          return id !== "locked";
        },
      },
      queries: {
        variants: async ({ campaignId, from, to }) => {
          asked.push([campaignId, from, to]);
          return [counts("A", 5, 2), counts("B", 3, 1)];
        },
      },
      now: () => now,
    });
    expect(await refresh.refresh()).toBe(1);
    expect(written).toEqual([
      ["c1", { delivered: 8, opened: 3 }],
      ["locked", { delivered: 8, opened: 3 }],
    ]);
    expect(asked[0]).toEqual([new Date(now.getTime() - REFRESHED_AFTER_COMPLETION_MS), 200]);
    expect(asked[1]).toEqual(["c1", created, now]);
  });

  it("does nothing while another worker's round is under way", async () => {
    const refresh = new CampaignSummaryRefresh({
      summaries: {
        exclusively: async () => undefined,
        refreshable: async () => {
          throw new Error("not asked while another round runs");
        },
        write: async () => true,
      },
      queries: { variants: async () => [] },
    });
    expect(await refresh.refresh()).toBe(0);
  });
});
