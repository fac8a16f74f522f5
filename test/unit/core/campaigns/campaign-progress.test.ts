import { describe, expect, it } from "vitest";
import { campaignProgress } from "../../../../core/campaigns/index.ts";

const started = new Date("2026-12-01T10:00:00Z");

describe("campaignProgress", () => {
  it("gives the rate since the start and the time left at it", () => {
    const progress = campaignProgress(
      {
        cursor: "c",
        heldOut: 0,
        phase: "all",
        submitted: 1_000,
        audienceSize: 3_000,
        at: new Date("2026-12-01T10:00:10Z"),
      },
      started,
    );
    expect(progress).toEqual({
      audienceSize: 3_000,
      submitted: 1_000,
      heldOut: 0,
      phase: "all",
      ratePerSecond: 100,
      etaSeconds: 20,
    });
  });

  it("knows no time left while the size or the rate is unknown, and none once all were submitted", () => {
    expect(
      campaignProgress(
        { cursor: "", heldOut: 0, phase: "all", submitted: 0, audienceSize: 10, at: null },
        started,
      ).etaSeconds,
    ).toBeNull();
    expect(
      campaignProgress(
        {
          cursor: "c",
          heldOut: 0,
          phase: "all",
          submitted: 5,
          audienceSize: null,
          at: new Date("2026-12-01T10:00:01Z"),
        },
        started,
      ).etaSeconds,
    ).toBeNull();
    expect(
      campaignProgress(
        {
          cursor: "",
          heldOut: 0,
          phase: "all",
          submitted: 10,
          audienceSize: 10,
          at: new Date("2026-12-01T10:00:01Z"),
        },
        started,
      ).etaSeconds,
    ).toBe(0);
  });
});
