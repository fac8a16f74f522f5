import { describe, expect, it } from "vitest";
import {
  type AudienceSource,
  Audiences,
  type Campaign,
  type CampaignCheckpoint,
  CampaignRunner,
  type CampaignRunStep,
  type CampaignStatusChange,
} from "../../../../core/campaigns/index.ts";
import type { SendRequest } from "../../../../core/sending/index.ts";
import type { Template } from "../../../../core/templates/index.ts";

const SEGMENT_ID = "00000000-0000-4000-8000-0000000000e1";
const USERS = Array.from({ length: 25 }, (_, n) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`);

/** An uploaded segment of USERS whose cursor is the index of the next member. */
const uploaded: AudienceSource = {
  async segment() {
    return { name: "Покупатели", size: USERS.length, ready: true };
  },
  async members(_key, cursor, limit) {
    const start = cursor === "" ? 0 : Number(cursor);
    const end = Math.min(USERS.length, start + limit);
    return { userIds: USERS.slice(start, end), cursor: end < USERS.length ? String(end) : "", skipped: 0 };
  },
};

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
  sendRatePerSecond: null,
  trackingEnabled: false,
  status: "active",
  scheduledAt: at,
  startedAt: at,
  completedAt: null,
  createdBy: "marketer-1",
  updatedBy: "marketer-1",
  statsSummary: null,
  revision: 3,
  createdAt: at,
  updatedAt: at,
};

/** A runner over one campaign whose steps are kept as the store would, and what it submitted. */
function harness(options: { pageSize: number; ceiling: number; sendRatePerSecond?: number }) {
  const submitted: SendRequest[] = [];
  const told: CampaignStatusChange[] = [];
  const steps: CampaignRunStep[] = [];
  let current: Campaign = { ...campaign, sendRatePerSecond: options.sendRatePerSecond ?? null };
  let checkpoint: CampaignCheckpoint = { cursor: "", submitted: 0, audienceSize: null, at: null };
  const runner = new CampaignRunner({
    runs: {
      async runActive(work) {
        if (current.status !== "active") return undefined;
        const step = await work(current, checkpoint);
        steps.push(step);
        checkpoint = step.checkpoint;
        if (step.completion) current = step.completion.campaign;
        return { campaignId: current.id };
      },
      async checkpointOf() {
        return checkpoint;
      },
    },
    audiences: new Audiences({ upload: uploaded }),
    templates: { get: async () => template },
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
    pageSize: options.pageSize,
  });
  return { runner, submitted, told, steps, current: () => current };
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
});
