import { describe, expect, it } from "vitest";
import { assignmentOf, decideWinner, inSample } from "../../../../core/campaigns/index.ts";

const USERS = Array.from(
  { length: 10_000 },
  (_, n) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
);
const campaign = {
  id: "00000000-0000-4000-8000-0000000000c1",
  templateId: "t-a",
  variants: [
    { templateId: "t-a", templateVersion: 0, sharePercent: 50 },
    { templateId: "t-b", templateVersion: 2, sharePercent: 30 },
  ],
  holdoutPercent: 20,
};

/** How many of USERS each outcome drew, as a fraction. */
function shares(draw: typeof campaign): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const userId of USERS) {
    const assignment = assignmentOf(draw, userId);
    const key = assignment.heldOut ? "holdout" : assignment.variant;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([key, count]) => [key, count / USERS.length]));
}

// A share p of 10,000 draws has a standard deviation of sqrt(p(1-p)/10,000), at most 0.5
// points: four of them is a bound a fair draw exceeds about once in 15,000 runs.
const TOLERANCE = 0.02;

describe("assignmentOf", () => {
  it("gives each variant and the hold-out its share of 10,000 users, within statistical tolerance", () => {
    const drawn = shares(campaign);
    expect(Object.keys(drawn).sort()).toEqual(["A", "B", "holdout"]);
    expect(Math.abs((drawn.A ?? 0) - 0.5)).toBeLessThan(TOLERANCE);
    expect(Math.abs((drawn.B ?? 0) - 0.3)).toBeLessThan(TOLERANCE);
    expect(Math.abs((drawn.holdout ?? 0) - 0.2)).toBeLessThan(TOLERANCE);
  });

  it("is stable: the same user gets the same variant every time, and another campaign draws anew", () => {
    const first = USERS.map((userId) => assignmentOf(campaign, userId));
    expect(USERS.map((userId) => assignmentOf({ ...campaign }, userId))).toEqual(first);
    const elsewhere = USERS.map((userId) => assignmentOf({ ...campaign, id: "c-2" }, userId));
    const same = elsewhere.filter(
      (assignment, index) => JSON.stringify(assignment) === JSON.stringify(first[index]),
    );
    // Independent draws agree for 0.5² + 0.3² + 0.2² = 38% of users.
    expect(Math.abs(same.length / USERS.length - 0.38)).toBeLessThan(TOLERANCE);
  });

  it("names the variant's template and version, and sends a campaign of one template to all but the hold-out", () => {
    const b = USERS.map((userId) => assignmentOf(campaign, userId)).find(
      (assignment) => !assignment.heldOut && assignment.variant === "B",
    );
    expect(b).toEqual({ heldOut: false, variant: "B", templateId: "t-b", templateVersion: 2 });
    const single = { ...campaign, variants: [], holdoutPercent: 0 };
    expect(USERS.every((userId) => assignmentOf(single, userId).heldOut === false)).toBe(true);
    expect(assignmentOf(single, USERS[0] as string)).toEqual({
      heldOut: false,
      variant: "",
      templateId: "t-a",
      templateVersion: 0,
    });
  });

  it("draws the winner rollout's sample apart from the variants, so that it is the same cut of each", () => {
    const sampled = USERS.filter((userId) => inSample(campaign.id, 25, userId));
    expect(Math.abs(sampled.length / USERS.length - 0.25)).toBeLessThan(TOLERANCE);
    const inA = sampled.filter((userId) => {
      const assignment = assignmentOf(campaign, userId);
      return !assignment.heldOut && assignment.variant === "A";
    });
    expect(Math.abs(inA.length / sampled.length - 0.5)).toBeLessThan(0.04);
  });
});

describe("decideWinner", () => {
  const at = new Date("2026-12-01T12:00:00Z");

  it("picks the highest rate of the metric, and keeps every variant's figures", () => {
    const decision = decideWinner(
      campaign,
      "open_rate",
      [
        { variant: "A", sent: 1_000, opened: 200, clicked: 90 },
        { variant: "B", sent: 600, opened: 150, clicked: 12 },
      ],
      at,
    );
    expect(decision).toEqual({
      metric: "open_rate",
      winner: "B",
      decidedAt: at,
      variants: [
        { variant: "A", templateId: "t-a", sent: 1_000, opened: 200, clicked: 90, rate: 0.2 },
        { variant: "B", templateId: "t-b", sent: 600, opened: 150, clicked: 12, rate: 0.25 },
      ],
    });
    expect(
      decideWinner(
        campaign,
        "click_rate",
        [
          { variant: "A", sent: 1_000, opened: 200, clicked: 90 },
          { variant: "B", sent: 600, opened: 150, clicked: 12 },
        ],
        at,
      ).winner,
    ).toBe("A");
  });

  it("breaks a tie by the larger sample, then by order, and decides on a sample nobody reached", () => {
    const tie = decideWinner(
      campaign,
      "open_rate",
      [
        { variant: "A", sent: 100, opened: 10, clicked: 0 },
        { variant: "B", sent: 200, opened: 20, clicked: 0 },
      ],
      at,
    );
    expect(tie.winner).toBe("B");
    const none = decideWinner(campaign, "click_rate", [], at);
    expect(none.winner).toBe("A");
    expect(none.variants.map((figures) => [figures.sent, figures.rate])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });
});
