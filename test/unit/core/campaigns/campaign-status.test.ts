import { describe, expect, it } from "vitest";
import {
  advance,
  assertTransition,
  CAMPAIGN_STATUSES,
  type Campaign,
  type CampaignCommand,
  type CampaignStatus,
  stepsOf,
} from "../../../../core/campaigns/index.ts";
import { DomainError } from "../../../../core/errors.ts";

// Written out by hand from the specification's lifecycle rather than read from the code, so a
// changed table shows up here.
const ALLOWED: readonly [CampaignStatus, CampaignStatus][] = [
  ["draft", "scheduled"],
  ["scheduled", "active"],
  ["active", "paused"],
  ["paused", "active"],
  ["active", "completed"],
  ["paused", "completed"],
  ["completed", "archived"],
];

/** The statuses a command takes a campaign through, by the status it starts from. */
type Paths = Partial<Record<CampaignStatus, CampaignStatus[]>>;

const ONWARD: Record<CampaignStatus, string> = {
  draft: "from draft it can go only to scheduled",
  scheduled: "from scheduled it can go only to active",
  active: "from active it can go only to paused or completed",
  paused: "from paused it can go only to active or completed",
  completed: "from completed it can go only to archived",
  archived: "archived is final",
};

const isAllowed = (from: CampaignStatus, to: CampaignStatus) =>
  ALLOWED.some(([a, b]) => a === from && b === to);

function refusalOf(act: () => unknown): DomainError {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error("expected a refusal");
}

const at = new Date("2026-03-20T08:00:00Z");
const campaign = (status: CampaignStatus, changes: Partial<Campaign> = {}): Campaign => ({
  id: "c-1",
  name: "Весенняя распродажа - Анонс",
  description: "",
  targetSegmentId: "segment-1",
  templateId: "t-1",
  variants: [],
  holdoutPercent: 0,
  winnerRollout: null,
  sendRatePerSecond: null,
  trackingEnabled: true,
  status,
  scheduledAt: null,
  startedAt: null,
  completedAt: null,
  createdBy: "marketer-1",
  updatedBy: "marketer-1",
  statsSummary: null,
  winnerDecision: null,
  revision: 4,
  createdAt: new Date("2026-03-01T00:00:00Z"),
  updatedAt: new Date("2026-03-01T00:00:00Z"),
  ...changes,
});

describe("the campaign state machine", () => {
  for (const from of CAMPAIGN_STATUSES) {
    for (const to of CAMPAIGN_STATUSES) {
      if (isAllowed(from, to)) {
        it(`allows ${from} → ${to}, and tells it as the spec's status change`, () => {
          expect(() => assertTransition("c-1", from, to)).not.toThrow();
          const { campaign: moved, change } = advance(campaign(from), to, { by: "system", at });
          expect(moved).toMatchObject({ status: to, updatedBy: "system", updatedAt: at, revision: 5 });
          expect(change).toEqual({
            campaignId: "c-1",
            campaignName: "Весенняя распродажа - Анонс",
            newStatus: to,
            previousStatus: from,
            changedAt: at,
            updatedBy: "system",
            revision: 5,
          });
        });
      } else {
        it(`refuses ${from} → ${to}, saying from where to where and what is allowed`, () => {
          const error = refusalOf(() => assertTransition("c-1", from, to));
          expect(error.entry.code).toBe("FAILED_PRECONDITION");
          expect(error.detail).toBe(
            `campaign c-1 is ${from}: it cannot go from ${from} to ${to}, and ${ONWARD[from]}`,
          );
          expect(() => advance(campaign(from), to, { by: "system", at })).toThrow(DomainError);
        });
      }
    }
  }

  it("has exactly the allowed edges", () => {
    const edges = CAMPAIGN_STATUSES.flatMap((from) =>
      CAMPAIGN_STATUSES.filter((to) => {
        try {
          assertTransition("c-1", from, to);
          return true;
        } catch {
          return false;
        }
      }).map((to) => `${from}→${to}`),
    );
    expect(edges.sort()).toEqual(ALLOWED.map(([from, to]) => `${from}→${to}`).sort());
  });

  it("sets the times each status is about, and keeps the first start through a resume", () => {
    const later = new Date("2026-03-21T09:00:00Z");
    const scheduledFor = new Date("2026-03-25T10:00:00Z");
    expect(
      advance(campaign("draft"), "scheduled", { by: "m", at, scheduledAt: scheduledFor }).campaign
        .scheduledAt,
    ).toEqual(scheduledFor);
    expect(advance(campaign("draft"), "scheduled", { by: "m", at }).campaign.scheduledAt).toEqual(at);
    expect(advance(campaign("scheduled"), "active", { by: "system", at }).campaign.startedAt).toEqual(at);
    const resumed = advance(campaign("paused", { startedAt: at }), "active", { by: "m", at: later }).campaign;
    expect(resumed.startedAt).toEqual(at);
    expect(advance(campaign("paused"), "completed", { by: "m", at: later }).campaign.completedAt).toEqual(
      later,
    );
  });
});

describe("the commands of CampaignService on the state machine", () => {
  // The statuses each command takes a campaign through, from each status it accepts.
  const TAKES: Record<CampaignCommand, Paths> = {
    schedule: { draft: ["scheduled"] },
    start: { draft: ["scheduled", "active"], scheduled: ["active"] },
    pause: { active: ["paused"] },
    resume: { paused: ["active"] },
    complete: { active: ["completed"], paused: ["completed"] },
    archive: { completed: ["archived"] },
  };
  const DESCRIBED: Record<CampaignCommand, string> = {
    schedule: "schedule takes a campaign from draft to scheduled",
    start: "start takes a campaign from draft or scheduled to active",
    pause: "pause takes a campaign from active to paused",
    resume: "resume takes a campaign from paused to active",
    complete: "complete takes a campaign from active or paused to completed",
    archive: "archive takes a campaign from completed to archived",
  };

  for (const [command, paths] of Object.entries(TAKES) as [CampaignCommand, Paths][]) {
    for (const from of CAMPAIGN_STATUSES) {
      const path = paths[from];
      if (path) {
        it(`${command} takes ${from} through ${path.join(", ")}, each step an edge of the machine`, () => {
          expect(stepsOf("c-1", command, from)).toEqual(path);
          let status = from;
          for (const to of path) {
            expect(isAllowed(status, to)).toBe(true);
            status = to;
          }
        });
      } else {
        it(`${command} refuses a ${from} campaign`, () => {
          const error = refusalOf(() => stepsOf("c-1", command, from));
          expect(error.entry.code).toBe("FAILED_PRECONDITION");
          expect(error.detail).toBe(`campaign c-1 is ${from}: ${DESCRIBED[command]}, and ${ONWARD[from]}`);
        });
      }
    }
  }
});
