import { describe, expect, it } from "vitest";
import {
  type AudienceSource,
  Audiences,
  assignmentOf,
  type Campaign,
  type CampaignCheckpoint,
  type CampaignOutcomes,
  CampaignRunner,
  type CampaignRunStep,
  type CampaignStatusChange,
} from "../../../../core/campaigns/index.ts";
import type { SendRequest } from "../../../../core/sending/index.ts";
import type { Template } from "../../../../core/templates/index.ts";

const SEGMENT_ID = "00000000-0000-4000-8000-0000000000e1";
const USERS = Array.from({ length: 25 }, (_, n) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`);

/** An uploaded segment of `users` whose cursor is the index of the next member. */
function segmentOf(users: string[]): AudienceSource {
  return {
    async segment() {
      return { name: "Покупатели", size: users.length, ready: true };
    },
    async members(_key, cursor, limit) {
      const start = cursor === "" ? 0 : Number(cursor);
      const end = Math.min(users.length, start + limit);
      return { userIds: users.slice(start, end), cursor: end < users.length ? String(end) : "", skipped: 0 };
    },
  };
}

const template = {
  id: "00000000-0000-4000-8000-00000000000a",
  name: "spring_sale",
  channel: "email",
  defaultLanguageCode: "ru",
} as Template;

const at = new Date("2026-12-01T10:00:00Z");
const campaign: Campaign = {
  id: "00000000-0000-4000-8000-0000000000c1",
  name: "Весна",
  description: "",
  targetSegmentId: `upload:${SEGMENT_ID}`,
  templateId: template.id,
  variants: [],
  holdoutPercent: 0,
  winnerRollout: null,
  sendRatePerSecond: null,
  trackingEnabled: false,
  status: "active",
  scheduledAt: at,
  startedAt: at,
  completedAt: null,
  createdBy: "marketer-1",
  updatedBy: "marketer-1",
  statsSummary: null,
  winnerDecision: null,
  revision: 3,
  createdAt: at,
  updatedAt: at,
};

const other = { ...template, id: "00000000-0000-4000-8000-00000000000b", name: "spring_sale_b" } as Template;

/**
 * A runner over one campaign whose steps are kept as the store would (a step's resumeAt
 * holding it back until the clock passes it), and what it submitted.
 */
function harness(options: {
  pageSize: number;
  ceiling: number;
  sendRatePerSecond?: number;
  users?: string[];
  changes?: Partial<Campaign>;
  outcomes?: CampaignOutcomes["byVariant"];
}) {
  const submitted: SendRequest[] = [];
  const told: CampaignStatusChange[] = [];
  const steps: CampaignRunStep[] = [];
  let clock = at.getTime();
  let resumeAt = 0;
  let current: Campaign = {
    ...campaign,
    sendRatePerSecond: options.sendRatePerSecond ?? null,
    ...options.changes,
  };
  let checkpoint: CampaignCheckpoint = {
    cursor: "",
    submitted: 0,
    heldOut: 0,
    phase: "all",
    audienceSize: null,
    at: null,
  };
  const users = options.users ?? USERS;
  const runner = new CampaignRunner({
    runs: {
      async runActive(work) {
        if (current.status !== "active" || clock < resumeAt) return undefined;
        const step = await work(current, checkpoint);
        steps.push(step);
        checkpoint = step.checkpoint;
        resumeAt = step.resumeAt?.getTime() ?? 0;
        if (step.write) current = step.write.campaign;
        return { campaignId: current.id };
      },
      async checkpointOf() {
        return checkpoint;
      },
    },
    audiences: new Audiences({ upload: segmentOf(users) }),
    templates: { get: async (id) => [template, other].find((known) => known.id === id) },
    orchestrator: {
      async accept(requests) {
        submitted.push(...requests);
        return [];
      },
    },
    pace: { take: async () => undefined, ceiling: () => options.ceiling },
    events: {
      encode(changes) {
        told.push(...changes);
        return [];
      },
    },
    outcomes: { byVariant: options.outcomes ?? (async () => []) },
    pageSize: options.pageSize,
    now: () => new Date(clock),
  });
  const advance = (ms: number) => {
    clock += ms;
  };
  return { runner, submitted, told, steps, current: () => current, advance };
}

describe("CampaignRunner", () => {
  it("submits a request per member a page at a time, checkpoints each page, and completes the campaign as the system", async () => {
    const run = harness({ pageSize: 10, ceiling: 1000 });
    while (await run.runner.runPage()) {}
    expect(run.steps.map((step) => step.checkpoint.cursor)).toEqual(["10", "20", ""]);
    expect(run.steps.map((step) => step.checkpoint.submitted)).toEqual([10, 20, 25]);
    expect(run.steps.every((step) => step.checkpoint.audienceSize === 25)).toBe(true);
    expect(run.submitted.map((request) => request.requestId)).toEqual(
      USERS.map((user) => `campaign:${campaign.id}:${user}`),
    );
    expect(run.submitted[0]).toMatchObject({
      recipients: [{ userId: USERS[0], deviceTokens: [] }],
      templateName: "spring_sale",
      languageCode: "ru",
      channels: ["email"],
      priority: "low",
      trackingEnabled: false,
      campaignId: campaign.id,
    });
    expect(run.current()).toMatchObject({
      status: "completed",
      updatedBy: "system",
      statsSummary: { sent: 25 },
    });
    expect(run.told).toMatchObject([
      { previousStatus: "active", newStatus: "completed", updatedBy: "system" },
    ]);
  });

  it("reads smaller pages at a low rate, so that a pause waits for a few seconds at most", async () => {
    const run = harness({ pageSize: 1000, ceiling: 2, sendRatePerSecond: 2 });
    await run.runner.runPage();
    expect(run.steps[0]?.checkpoint).toMatchObject({ cursor: "10", submitted: 10 });
  });

  it("sends each member the variant their id draws, pins the variant's version, and leaves the hold-out out", async () => {
    const users = Array.from({ length: 2_000 }, (_, n) => `user-${n}`);
    const variants = [
      { templateId: template.id, templateVersion: 0, sharePercent: 45 },
      { templateId: other.id, templateVersion: 3, sharePercent: 45 },
    ];
    const changes = { variants, holdoutPercent: 10 };
    const run = harness({ pageSize: 500, ceiling: 10_000, users, changes });
    while (await run.runner.runPage()) {}
    const last = run.steps.at(-1)?.checkpoint;
    expect(run.submitted.length + (last?.heldOut ?? 0)).toBe(2_000);
    expect(last).toMatchObject({ submitted: run.submitted.length, phase: "all" });
    for (const request of run.submitted) {
      const userId = request.recipients[0]?.userId as string;
      expect(assignmentOf({ ...campaign, ...changes }, userId)).toMatchObject({
        heldOut: false,
        variant: request.campaignVariant,
      });
    }
    const a = run.submitted.filter((request) => request.campaignVariant === "A");
    const b = run.submitted.filter((request) => request.campaignVariant === "B");
    expect(
      a.every((request) => request.templateName === "spring_sale" && request.templateVersion === undefined),
    ).toBe(true);
    expect(
      b.every((request) => request.templateName === "spring_sale_b" && request.templateVersion === 3),
    ).toBe(true);
    // 2,000 draws: each share within four standard deviations (about 4.5 points for 45%).
    expect(Math.abs(a.length / 2_000 - 0.45)).toBeLessThan(0.045);
    expect(Math.abs(b.length / 2_000 - 0.45)).toBeLessThan(0.045);
    expect(run.current().status).toBe("completed");
  });

  it("rolls the winner out: the sample gets its variants, the rest after the wait the variant with the higher rate", async () => {
    const users = Array.from({ length: 3_000 }, (_, n) => `user-${n}`);
    const changes: Partial<Campaign> = {
      variants: [
        { templateId: template.id, templateVersion: 0, sharePercent: 50 },
        { templateId: other.id, templateVersion: 0, sharePercent: 40 },
      ],
      holdoutPercent: 10,
      winnerRollout: { samplePercent: 20, waitSeconds: 3_600, metric: "click_rate" },
    };
    // Seeded: B's readers click one message in four, A's one in ten.
    const clicksPer: Record<string, number> = { A: 10, B: 4 };
    const run = harness({
      pageSize: 1_000,
      ceiling: 10_000,
      users,
      changes,
      outcomes: async () =>
        ["A", "B"].map((variant) => {
          const sent = run.submitted.filter((request) => request.campaignVariant === variant).length;
          return { variant, sent, opened: sent, clicked: Math.floor(sent / (clicksPer[variant] as number)) };
        }),
    });
    while (await run.runner.runPage()) {}
    const sample = run.submitted.length;
    const waiting = run.steps.at(-1);
    expect(waiting?.checkpoint.phase).toBe("deciding");
    expect(waiting?.resumeAt).toEqual(new Date(at.getTime() + 3_600_000));
    expect(sample / 3_000).toBeGreaterThan(0.12);
    expect(sample / 3_000).toBeLessThan(0.24);
    expect(run.current().winnerDecision).toBeNull();

    run.advance(3_600_000);
    while (await run.runner.runPage()) {}
    const decision = run.current().winnerDecision;
    expect(decision).toMatchObject({ metric: "click_rate", winner: "B" });
    expect(decision?.variants.map((figures) => figures.variant)).toEqual(["A", "B"]);
    expect(decision?.variants[1]?.rate).toBeCloseTo(0.25, 1);
    // The decision is a change of the campaign of its own, and so is the completion.
    expect(run.current()).toMatchObject({ status: "completed", revision: campaign.revision + 2 });

    const reached = run.submitted.map((request) => request.recipients[0]?.userId);
    expect(new Set(reached).size).toBe(reached.length);
    const heldOut = run.steps.at(-1)?.checkpoint.heldOut ?? 0;
    expect(reached.length + heldOut).toBe(3_000);
    expect(run.submitted.slice(sample).every((request) => request.campaignVariant === "B")).toBe(true);
    expect(run.submitted.slice(0, sample).some((request) => request.campaignVariant === "A")).toBe(true);
  });
});
