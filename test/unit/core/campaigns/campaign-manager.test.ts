import { describe, expect, it } from "vitest";
import type { Caller } from "../../../../core/caller.ts";
import {
  type AudienceSource,
  Audiences,
  type Campaign,
  type CampaignDraft,
  CampaignManager,
  type CampaignStatusChange,
  type CampaignStore,
} from "../../../../core/campaigns/index.ts";
import { DomainError } from "../../../../core/errors.ts";
import type { Template, TemplateVersion } from "../../../../core/templates/index.ts";

const marketer: Caller = { subject: "marketer-1", roles: ["marketer"], via: "jwt" };
const ACTIVE = "00000000-0000-4000-8000-00000000000a";
const INACTIVE = "00000000-0000-4000-8000-00000000000b";
const MISSING = "00000000-0000-4000-8000-00000000000c";
// Uploaded segments: one with its members, one awaiting them, one that does not exist.
const SEGMENT = "upload:00000000-0000-4000-8000-0000000000e1";
const EMPTY_SEGMENT = "upload:00000000-0000-4000-8000-0000000000e2";
const NO_SEGMENT = "upload:00000000-0000-4000-8000-0000000000e3";

/** Uploaded segments by key, in the place of their store. */
const uploaded: AudienceSource = {
  async segment(key) {
    if (`upload:${key}` === SEGMENT) return { name: "Покупатели", size: 3, ready: true };
    if (`upload:${key}` === EMPTY_SEGMENT) return { name: "Пустой", size: null, ready: false };
    return undefined;
  },
  async members() {
    return { userIds: [], cursor: "", skipped: 0 };
  },
};

/** An in-memory CampaignStore that keeps what it is given: every rule is the manager's, through `decide`. */
function memoryStore(): CampaignStore {
  const campaigns = new Map<string, Campaign>();
  return {
    async create(write) {
      campaigns.set(write.campaign.id, write.campaign);
      return write.campaign;
    },
    async get(id) {
      return campaigns.get(id);
    },
    async list() {
      return { campaigns: [...campaigns.values()], nextPageToken: "" };
    },
    async change(id, _caller, decide) {
      const { campaign } = decide(campaigns.get(id));
      campaigns.set(id, campaign);
      return campaign;
    },
    async takeDue(now, limit, _caller, decide) {
      const due = [...campaigns.values()]
        .filter((each) => each.status === "scheduled" && (each.scheduledAt?.getTime() ?? 0) <= now.getTime())
        .slice(0, limit);
      for (const each of due) campaigns.set(each.id, decide(each).campaign);
      return due.length;
    },
  };
}

const template = (id: string, activeVersion: number): Template => ({
  id,
  name: id,
  description: "",
  channel: "email",
  defaultLanguageCode: "ru",
  exampleVariables: {},
  activeVersion,
  latestVersion: 2,
  revision: 1,
  createdAt: new Date(),
  updatedAt: new Date(),
});

const versionOf = (templateId: string, version: number): TemplateVersion => ({
  templateId,
  version,
  locales: [],
  active: version === 1,
  activatedAt: null,
  createdAt: new Date(),
  updatedAt: new Date(),
});

function manager() {
  const told: CampaignStatusChange[] = [];
  const templates = new Map([
    [ACTIVE, template(ACTIVE, 1)],
    [INACTIVE, template(INACTIVE, 0)],
  ]);
  const campaigns = new CampaignManager({
    store: memoryStore(),
    templates: {
      get: async (id) => templates.get(id),
      getVersion: async (id, version) =>
        templates.has(id) && version <= 2 ? versionOf(id, version) : undefined,
    },
    // The changes as told, in the place of their encoded events.
    events: {
      encode: (changes) => {
        told.push(...changes);
        return [];
      },
    },
    // No Analytics Service configured.
    audiences: new Audiences({ upload: uploaded }),
  });
  return { campaigns, told };
}

const draft = (changes: Partial<CampaignDraft> = {}): CampaignDraft => ({
  name: "Весенняя распродажа - Анонс",
  description: "",
  targetSegmentId: SEGMENT,
  templateId: ACTIVE,
  variants: [],
  holdoutPercent: 0,
  winnerRollout: null,
  sendRatePerSecond: null,
  trackingEnabled: true,
  ...changes,
});

async function refusalOf(promise: Promise<unknown>): Promise<[string, (string | undefined)[], string[]]> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  const { entry, problems } = error as DomainError;
  return [
    entry.code,
    problems.map((problem) => problem.source.pointer),
    problems.map((problem) => problem.detail),
  ];
}

describe("CampaignManager", () => {
  it("creates a draft and tells it with an empty previous status", async () => {
    const { campaigns, told } = manager();
    const created = await campaigns.create(draft(), marketer);
    expect(created).toMatchObject({
      status: "draft",
      createdBy: "marketer-1",
      revision: 1,
      scheduledAt: null,
    });
    expect(told).toEqual([
      expect.objectContaining({
        campaignId: created.id,
        newStatus: "draft",
        previousStatus: "",
        updatedBy: "marketer-1",
      }),
    ]);
  });

  it("takes variants whose shares and hold-out make 100, the first variant's template as template_id", async () => {
    const { campaigns } = manager();
    const created = await campaigns.create(
      draft({
        templateId: "",
        holdoutPercent: 10,
        variants: [
          { templateId: INACTIVE.toUpperCase(), templateVersion: 2, sharePercent: 45 },
          { templateId: ACTIVE, templateVersion: 0, sharePercent: 45 },
        ],
      }),
      marketer,
    );
    expect(created.templateId).toBe(INACTIVE);
    expect(created.variants[0]?.templateId).toBe(INACTIVE);
  });

  it("refuses a winner rollout without variants to pick from", async () => {
    const { campaigns } = manager();
    const winnerRollout = { samplePercent: 20, waitSeconds: 600, metric: "open_rate" as const };
    expect(await refusalOf(campaigns.create(draft({ winnerRollout }), marketer))).toEqual([
      "VALIDATION_ERROR",
      ["/campaign/winner_rollout"],
      ["a winner rollout picks between A/B variants: give two or more variants, or no winner_rollout"],
    ]);
  });

  it("refuses variants that do not cover the audience, a lone variant, and another template_id, all at once", async () => {
    const { campaigns } = manager();
    const variants = [
      { templateId: ACTIVE, templateVersion: 0, sharePercent: 50 },
      { templateId: INACTIVE, templateVersion: 0, sharePercent: 40 },
    ];
    expect(
      await refusalOf(
        campaigns.create(draft({ templateId: INACTIVE, variants, holdoutPercent: 5 }), marketer),
      ),
    ).toEqual([
      "VALIDATION_ERROR",
      ["/campaign/variants", "/campaign/template_id"],
      [
        "the variants' shares add up to 90%; with a hold-out of 5% they must add up to 95%",
        "with variants, template_id is the first variant's template: leave it empty or give that one",
      ],
    ]);
    expect(
      (await refusalOf(campaigns.create(draft({ variants: variants.slice(0, 1) }), marketer)))[1],
    ).toEqual(["/campaign/variants", "/campaign/variants"]);
    expect((await refusalOf(campaigns.create(draft({ templateId: "" }), marketer)))[1]).toEqual([
      "/campaign/template_id",
    ]);
  });

  it("answers NOT_FOUND for a template or version that does not exist, pointing at it", async () => {
    const { campaigns } = manager();
    expect(await refusalOf(campaigns.create(draft({ templateId: MISSING }), marketer))).toEqual([
      "NOT_FOUND",
      ["/campaign/template_id"],
      [`template ${MISSING} does not exist`],
    ]);
    const variants = [
      { templateId: ACTIVE, templateVersion: 7, sharePercent: 50 },
      { templateId: MISSING, templateVersion: 0, sharePercent: 50 },
    ];
    expect((await refusalOf(campaigns.create(draft({ templateId: "", variants }), marketer)))[1]).toEqual([
      "/campaign/variants/0/template_version",
      "/campaign/variants/1/template_id",
    ]);
  });

  it("starts a draft now through scheduled, and a due scheduled campaign as the system", async () => {
    const { campaigns, told } = manager();
    const now = await campaigns.create(draft(), marketer);
    const started = await campaigns.start(now.id, marketer);
    expect(started).toMatchObject({ status: "active", revision: 3 });
    expect(started.scheduledAt).toEqual(started.startedAt);
    expect(told.slice(1).map((change) => [change.previousStatus, change.newStatus, change.revision])).toEqual(
      [
        ["draft", "scheduled", 2],
        ["scheduled", "active", 3],
      ],
    );

    const later = await campaigns.create(draft(), marketer);
    await campaigns.schedule(later.id, new Date(Date.now() + 50), marketer);
    expect(await campaigns.startDue(10)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await campaigns.startDue(10)).toBe(1);
    expect(told.at(-1)).toMatchObject({
      previousStatus: "scheduled",
      newStatus: "active",
      updatedBy: "system",
    });
  });

  it("schedules only a draft that has an audience and sendable templates, at a time to come", async () => {
    const { campaigns } = manager();
    const unready = await campaigns.create(draft({ targetSegmentId: "", templateId: INACTIVE }), marketer);
    const [code, , details] = await refusalOf(
      campaigns.schedule(unready.id, new Date(Date.now() + 60_000), marketer),
    );
    expect(code).toBe("FAILED_PRECONDITION");
    expect(details).toEqual([
      `campaign ${unready.id} has no target_segment_id: choose its audience in the draft first`,
      `campaign ${unready.id}: template ${INACTIVE} has no active version: activate one, or name the version to send`,
    ]);
    const ready = await campaigns.create(draft(), marketer);
    expect(await refusalOf(campaigns.schedule(ready.id, new Date(Date.now() - 1), marketer))).toEqual([
      "VALIDATION_ERROR",
      ["/scheduled_time"],
      ["scheduled_time must be in the future"],
    ]);
  });

  it("refuses a target_segment_id that names no source it reads, pointing at it", async () => {
    const { campaigns } = manager();
    expect(await refusalOf(campaigns.create(draft({ targetSegmentId: "spring-buyers" }), marketer))).toEqual([
      "VALIDATION_ERROR",
      ["/campaign/target_segment_id"],
      [
        'target_segment_id "spring-buyers" names no source of segments: give upload:<id> for a segment uploaded here (SegmentService), or analytics:<key> for one of the Analytics Service',
      ],
    ]);
    const created = await campaigns.create(draft(), marketer);
    const [code, pointers, details] = await refusalOf(
      campaigns.update(created.id, draft({ targetSegmentId: "analytics:spring-buyers" }), 1, marketer),
    );
    expect([code, pointers]).toEqual(["VALIDATION_ERROR", ["/campaign/target_segment_id"]]);
    expect(details[0]).toMatch(/no Analytics Service configured \(ANALYTICS_URL\)/);
    expect((await refusalOf(campaigns.create(draft({ targetSegmentId: "upload:42" }), marketer)))[2]).toEqual(
      ['target_segment_id "upload:42": an uploaded segment\'s id is a UUID'],
    );
  });

  it("leaves draft only for a segment that exists and has its members", async () => {
    const { campaigns } = manager();
    const missing = await campaigns.create(draft({ targetSegmentId: NO_SEGMENT }), marketer);
    expect(await refusalOf(campaigns.schedule(missing.id, new Date(Date.now() + 60_000), marketer))).toEqual([
      "NOT_FOUND",
      ["/campaign/target_segment_id"],
      [
        `campaign ${missing.id}: its target segment ${NO_SEGMENT} does not exist: choose an existing segment in the draft`,
      ],
    ]);
    const empty = await campaigns.create(draft({ targetSegmentId: EMPTY_SEGMENT }), marketer);
    expect(await refusalOf(campaigns.start(empty.id, marketer))).toEqual([
      "FAILED_PRECONDITION",
      [undefined],
      [`campaign ${empty.id}: segment ${EMPTY_SEGMENT} has no members yet: upload them first`],
    ]);
    expect((await campaigns.get(missing.id)).status).toBe("draft");
    expect((await campaigns.start((await campaigns.create(draft(), marketer)).id, marketer)).status).toBe(
      "active",
    );
  });

  it("edits only a draft, at the revision it is based on", async () => {
    const { campaigns } = manager();
    const created = await campaigns.create(draft(), marketer);
    expect((await refusalOf(campaigns.update(created.id, draft({ name: "x" }), 9, marketer)))[0]).toBe(
      "STALE_REVISION",
    );
    const edited = await campaigns.update(created.id, draft({ name: "Летняя распродажа" }), 1, marketer);
    expect(edited).toMatchObject({ name: "Летняя распродажа", revision: 2 });
    await campaigns.schedule(created.id, new Date(Date.now() + 60_000), marketer);
    expect(await refusalOf(campaigns.update(created.id, draft(), 0, marketer))).toEqual([
      "FAILED_PRECONDITION",
      [undefined],
      [
        `campaign ${created.id} is scheduled: only a draft can be edited, and from scheduled it can go only to active`,
      ],
    ]);
  });
});
