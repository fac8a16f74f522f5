import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Consumer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CampaignService, CampaignStatus } from "../../gen/platform/notification/v1/campaign_service_pb.ts";
import { AUTH_ENV, authHeaders, authInterceptor } from "../support/credentials.ts";
import {
  type CollectedRecord,
  collect,
  createActiveTemplate,
  EVENTS_TOPIC,
  pipelineEnv,
  testKafka,
} from "../support/pipeline.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";

// CampaignService over REST against the built service, with two worker processes polling for
// due campaigns, and every status change read back from the events topic.
const API = "/api/v1/notifications";
const MARKETER = randomUUID();
const run = randomUUID().slice(0, 8);
let service: ServiceProcess;
let secondWorker: ServiceProcess;
let events: { records: CollectedRecord[]; consumer: Consumer };
let templateId = "";
// Uploaded segments to target: a campaign leaves draft only for a segment that exists.
let springSegment = "";
let summerSegment = "";

type Who = "marketer" | "admin" | "support" | "user" | "anonymous";
const HEADERS: Record<Who, () => Record<string, string>> = {
  marketer: () => authHeaders(MARKETER, ["marketer"]),
  admin: () => authHeaders("e2e-admin", ["admin"]),
  support: () => authHeaders("support-1", ["support"]),
  user: () => authHeaders(randomUUID(), ["user"]),
  anonymous: () => ({}),
};

/** What the REST answers below are read for: a campaign, a page of them, or the errors. */
interface AnswerJson {
  id?: string;
  status?: string;
  scheduled_time?: string;
  started_time?: string;
  completed_time?: string;
  updated_by?: string;
  campaigns?: { id: string }[];
  next_page_token?: string;
  errors?: {
    code: string;
    title: string;
    detail: string;
    source?: { pointer?: string; parameter?: string };
  }[];
}

interface Answer {
  status: number;
  json: AnswerJson;
}

/** The first error of an answer that must have failed. */
function errorOf(answer: Answer) {
  const [error] = answer.json.errors ?? [];
  if (!error) throw new Error(`expected an error, got ${answer.status} ${JSON.stringify(answer.json)}`);
  return error;
}

async function call(method: string, path: string, body?: unknown, who: Who = "marketer"): Promise<Answer> {
  const response = await fetch(`${service.httpUrl}${API}${path}`, {
    method,
    headers: { ...HEADERS[who](), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as AnswerJson };
}

const create = (fields: Record<string, unknown> = {}, who: Who = "marketer") =>
  call(
    "POST",
    "/campaigns",
    {
      name: `Весенняя распродажа ${run}`,
      description: "Анонс",
      target_segment_id: springSegment,
      template_id: templateId,
      // Slow enough that the runner does not complete a started campaign while a test looks at it.
      send_rate_per_second: 1,
      ...fields,
    },
    who,
  );
const command = (id: string, verb: string, body: object = {}, who: Who = "marketer") =>
  call("POST", `/campaigns/${id}:${verb}`, body, who);
const get = (id: string, who: Who = "marketer") => call("GET", `/campaigns/${id}`, undefined, who);

/**
 * The data of every campaign status event of `campaignId` that arrived so far, in order. The
 * outbox publishes at least once: an event published twice carries one CloudEvent id.
 */
function toldOf(campaignId: string): Record<string, string>[] {
  const seen = new Set<string>();
  return events.records
    .map(
      (record) =>
        JSON.parse(record.value) as {
          id?: string;
          type?: string;
          subject?: string;
          data: Record<string, string>;
        },
    )
    .filter(
      (event) =>
        event.type === "com.platform.notification.campaign.status.changed.v1" && event.subject === campaignId,
    )
    .filter((event) => {
      const first = !seen.has(event.id ?? "");
      seen.add(event.id ?? "");
      return first;
    })
    .map((event) => event.data);
}

/** The changes of the campaign as [previous, new, by], once `count` of them arrived. */
async function changesOf(campaignId: string, count: number): Promise<string[][]> {
  await eventually(async () => toldOf(campaignId).length >= count, 10_000);
  return toldOf(campaignId).map((data) => [
    data.previousStatus ?? "?",
    data.newStatus ?? "?",
    data.updatedBy ?? "?",
  ]);
}

/** A segment with 100 members uploaded (100 s of sending at 1/s), by its target_segment_id. */
async function uploadedSegment(name: string): Promise<string> {
  const created = await call("POST", "/segments", { name });
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  const uploaded = await fetch(`${service.httpUrl}${API}/segments/${created.json.id}/members`, {
    method: "POST",
    headers: { ...HEADERS.marketer(), "content-type": "text/csv" },
    body: `user_id\n${Array.from({ length: 100 }, () => randomUUID()).join("\n")}\n`,
  });
  expect(uploaded.status, await uploaded.clone().text()).toBe(200);
  return `upload:${created.json.id}`;
}

// Every campaign this file made, so that none is left sending after it.
const made: string[] = [];

async function createdId(fields: Record<string, unknown> = {}): Promise<string> {
  const created = await create(fields);
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  made.push(String(created.json.id));
  return String(created.json.id);
}

beforeAll(async () => {
  const env = { ...AUTH_ENV, ...pipelineEnv(join(mkdtempSync(join(tmpdir(), "campaigns-")), "sink.jsonl")) };
  [service, secondWorker] = await Promise.all([
    startServiceProcess({ env }),
    startServiceProcess({ role: "worker", env }),
  ]);
  events = await collect(testKafka("campaigns-e2e"), EVENTS_TOPIC);
  templateId = await createActiveTemplate(service.httpUrl, `campaign_${run}`, [
    { language_code: "ru", subject: "Распродажа", body: "Скидки до 50%", body_html: "<p>Скидки</p>" },
  ]);
  springSegment = await uploadedSegment(`Весна ${run}`);
  summerSegment = await uploadedSegment(`Лето ${run}`);
  // Both workers poll for due campaigns once their pipeline runs.
  for (const worker of [service, secondWorker]) {
    const running = await eventually(
      async () => worker.logs.some((line) => line.message === "send pipeline consuming"),
      60_000,
    );
    expect(running, worker.output()).toBe(true);
  }
});

afterAll(async () => {
  // Completing refuses campaigns that are not running: only the running ones stop.
  await Promise.all(made.map((id) => command(id, "complete").catch(() => undefined)));
  await events?.consumer.disconnect();
  await Promise.all([service?.stop(), secondWorker?.stop()]);
});

describe("CampaignService", () => {
  it("creates a draft, edits it at its revision, and tells the creation", async () => {
    const created = await create();
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    expect(created.json).toMatchObject({
      name: `Весенняя распродажа ${run}`,
      status: "CAMPAIGN_STATUS_DRAFT",
      template_id: templateId,
      created_by: MARKETER,
      updated_by: MARKETER,
      tracking_enabled: true,
      revision: "1",
    });
    const id = String(created.json.id);

    const stale = await fetch(`${service.httpUrl}${API}/campaigns/${id}`, {
      method: "PUT",
      headers: { ...HEADERS.marketer(), "content-type": "application/json", "if-match": '"7"' },
      body: JSON.stringify({ name: "x", template_id: templateId }),
    });
    expect(stale.status).toBe(412);
    expect(await stale.json()).toMatchObject({
      errors: [{ code: "STALE_REVISION", source: { parameter: "If-Match" } }],
    });

    const edited = await fetch(`${service.httpUrl}${API}/campaigns/${id}`, {
      method: "PUT",
      headers: { ...HEADERS.admin(), "content-type": "application/json", "if-match": '"1"' },
      body: JSON.stringify({
        name: `Летняя распродажа ${run}`,
        target_segment_id: summerSegment,
        template_id: templateId,
        tracking_enabled: false,
        send_rate_per_second: 200,
      }),
    });
    expect(edited.status).toBe(200);
    expect(edited.headers.get("etag")).toBe('"2"');
    expect(await edited.json()).toMatchObject({
      name: `Летняя распродажа ${run}`,
      description: "",
      target_segment_id: summerSegment,
      tracking_enabled: false,
      send_rate_per_second: 200,
      created_by: MARKETER,
      updated_by: "e2e-admin",
      revision: "2",
    });
    expect((await get(id)).json).toMatchObject({ name: `Летняя распродажа ${run}`, revision: "2" });
    expect(await changesOf(id, 1)).toEqual([["", "draft", MARKETER]]);
  });

  it("starts a scheduled campaign within a second of its time with two workers, once", async () => {
    const id = await createdId();
    const at = new Date(Date.now() + 1_500);
    const scheduled = await command(id, "schedule", { scheduled_time: at.toISOString() });
    expect(scheduled.status, JSON.stringify(scheduled.json)).toBe(200);
    expect(scheduled.json).toMatchObject({
      status: "CAMPAIGN_STATUS_SCHEDULED",
      scheduled_time: at.toISOString(),
    });

    const edit = await call("PUT", `/campaigns/${id}`, { name: "x", template_id: templateId });
    expect(edit.status).toBe(412);
    expect(errorOf(edit)).toMatchObject({
      code: "FAILED_PRECONDITION",
      detail: `campaign ${id} is scheduled: only a draft can be edited, and from scheduled it can go only to active`,
    });

    expect(
      await eventually(async () => (await get(id)).json.status === "CAMPAIGN_STATUS_ACTIVE", 10_000),
    ).toBe(true);
    const active = (await get(id)).json;
    const lateMs =
      new Date(active.started_time ?? 0).getTime() - new Date(active.scheduled_time ?? 0).getTime();
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(1_000);
    expect(active.updated_by).toBe("system");

    // Long enough for a second start by the other worker to show.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await changesOf(id, 3)).toEqual([
      ["", "draft", MARKETER],
      ["draft", "scheduled", MARKETER],
      ["scheduled", "active", "system"],
    ]);
    const started = [service, secondWorker].flatMap((worker) =>
      worker.logs.filter((line) => line.message === "scheduled campaigns started"),
    );
    expect(started.length).toBeGreaterThanOrEqual(1);
  });

  it("pauses, resumes, completes and archives, each change one event with the spec's payload exactly", async () => {
    const id = await createdId();
    const started = await command(id, "start");
    expect(started.json).toMatchObject({
      status: "CAMPAIGN_STATUS_ACTIVE",
      updated_by: MARKETER,
      revision: "3",
    });
    expect(started.json.scheduled_time).toBe(started.json.started_time);
    expect((await command(id, "pause")).json.status).toBe("CAMPAIGN_STATUS_PAUSED");
    expect((await command(id, "resume")).json).toMatchObject({
      status: "CAMPAIGN_STATUS_ACTIVE",
      started_time: started.json.started_time,
    });
    const completed = await command(id, "complete", {}, "admin");
    expect(completed.json.status).toBe("CAMPAIGN_STATUS_COMPLETED");
    expect(completed.json.completed_time).toBeTruthy();
    expect((await command(id, "archive")).json).toMatchObject({
      status: "CAMPAIGN_STATUS_ARCHIVED",
      revision: "7",
    });

    expect(await changesOf(id, 7)).toEqual([
      ["", "draft", MARKETER],
      ["draft", "scheduled", MARKETER],
      ["scheduled", "active", MARKETER],
      ["active", "paused", MARKETER],
      ["paused", "active", MARKETER],
      ["active", "completed", "e2e-admin"],
      ["completed", "archived", MARKETER],
    ]);
    for (const data of toldOf(id)) {
      expect(Object.keys(data).sort()).toEqual(
        ["campaignId", "campaignName", "changeTimestamp", "newStatus", "previousStatus", "updatedBy"].sort(),
      );
      expect(data).toMatchObject({ campaignId: id, campaignName: `Весенняя распродажа ${run}` });
      expect(new Date(data.changeTimestamp ?? "").getTime()).not.toBeNaN();
    }
    const [record] = events.records.filter((each) => each.key === id);
    expect(record?.headers["content-type"]).toBe("application/cloudevents+json; charset=UTF-8");
  });

  it("refuses every change the state machine does not have with FAILED_PRECONDITION, saying where it can go", async () => {
    const at = () => new Date(Date.now() + 3_600_000).toISOString();
    const draft = await createdId();
    const scheduled = await createdId();
    await command(scheduled, "schedule", { scheduled_time: at() });
    const active = await createdId();
    await command(active, "start");
    const paused = await createdId();
    await command(paused, "start");
    await command(paused, "pause");
    const completed = await createdId();
    await command(completed, "start");
    await command(completed, "complete");
    const archived = await createdId();
    await command(archived, "start");
    await command(archived, "complete");
    await command(archived, "archive");
    const campaigns = { draft, scheduled, active, paused, completed, archived };
    const takes: Record<string, string[]> = {
      schedule: ["draft"],
      start: ["draft", "scheduled"],
      pause: ["active"],
      resume: ["paused"],
      complete: ["active", "paused"],
      archive: ["completed"],
    };
    const refused: string[] = [];
    for (const [verb, from] of Object.entries(takes)) {
      for (const [status, id] of Object.entries(campaigns)) {
        if (from.includes(status)) continue;
        const answer = await command(id, verb, verb === "schedule" ? { scheduled_time: at() } : {});
        const error = errorOf(answer);
        expect([answer.status, error.code], `${verb} ${status}`).toEqual([412, "FAILED_PRECONDITION"]);
        expect(error.detail).toMatch(
          new RegExp(`^campaign ${id} is ${status}: ${verb} takes a campaign from .+, and `),
        );
        refused.push(`${verb} ${status}`);
      }
    }
    expect(refused).toHaveLength(36 - 8);
    expect(errorOf(await command(archived, "pause")).detail).toBe(
      `campaign ${archived} is archived: pause takes a campaign from active to paused, and archived is final`,
    );
    expect(errorOf(await command(draft, "resume")).detail).toBe(
      `campaign ${draft} is draft: resume takes a campaign from paused to active, and from draft it can go only to scheduled`,
    );
    // None of it changed anything.
    for (const [status, id] of Object.entries(campaigns)) {
      expect((await get(id)).json.status).toBe(`CAMPAIGN_STATUS_${status.toUpperCase()}`);
    }
  });

  it("lists by status, creator, part of the name and scheduled time, in pages", async () => {
    const lister = randomUUID();
    const as = () => authHeaders(lister, ["marketer"]);
    const made: string[] = [];
    for (const name of [`Осень ${run} a`, `Осень ${run} b`, `Зима ${run}`, `ОСЕНЬ ${run} c`]) {
      const response = await fetch(`${service.httpUrl}${API}/campaigns`, {
        method: "POST",
        headers: { ...as(), "content-type": "application/json" },
        body: JSON.stringify({ name, target_segment_id: springSegment, template_id: templateId }),
      });
      made.push(String(((await response.json()) as { id: string }).id));
    }
    const at = new Date(Date.now() + 7_200_000);
    await command(made[1] ?? "", "schedule", { scheduled_time: at.toISOString() });
    const list = async (query: Record<string, string>) =>
      (
        await call(
          "GET",
          `/campaigns?${new URLSearchParams({ created_by: lister, ...query })}`,
          undefined,
          "support",
        )
      ).json;
    const ids = (page: AnswerJson) => (page.campaigns ?? []).map((each) => each.id);

    const first = await list({ page_size: "3" });
    expect(ids(first)).toEqual([...made].reverse().slice(0, 3));
    const second = await list({ page_size: "3", page_token: first.next_page_token ?? "" });
    expect([ids(second), second.next_page_token]).toEqual([[made[0]], ""]);

    expect(ids(await list({ name_contains: `осень ${run}` }))).toEqual([made[3], made[1], made[0]]);
    expect(ids(await list({ status: "CAMPAIGN_STATUS_SCHEDULED" }))).toEqual([made[1]]);
    const around = (ms: number) => new Date(at.getTime() + ms).toISOString();
    expect(ids(await list({ scheduled_from: around(-1_000), scheduled_to: around(1_000) }))).toEqual([
      made[1],
    ]);
    expect(ids(await list({ scheduled_from: around(1) }))).toEqual([]);
    expect(errorOf(await call("GET", "/campaigns?page_token=bm9wZQ", undefined, "support"))).toMatchObject({
      code: "VALIDATION_ERROR",
      source: { parameter: "page_token" },
    });

    // The same over gRPC.
    const grpc = createClient(
      CampaignService,
      createGrpcTransport({
        baseUrl: service.grpcUrl,
        interceptors: [authInterceptor("support-1", ["support"])],
      }),
    );
    const page = await grpc.listCampaigns({ createdBy: lister, status: CampaignStatus.SCHEDULED });
    expect(page.campaigns.map((each) => each.id)).toEqual([made[1]]);
  });

  it("lets support read but not write, refuses a user and answers 401 without credentials", async () => {
    const id = await createdId();
    expect((await get(id, "support")).status).toBe(200);
    expect((await call("GET", "/campaigns", undefined, "support")).status).toBe(200);
    for (const [answer, status] of [
      [await create({}, "support"), 403],
      [await command(id, "start", {}, "support"), 403],
      [await get(id, "user"), 403],
      [await create({}, "user"), 403],
      [await get(id, "anonymous"), 401],
      [await command(id, "pause", {}, "anonymous"), 401],
    ] as const) {
      expect(answer.status).toBe(status);
    }
    expect((await get(id)).json.status).toBe("CAMPAIGN_STATUS_DRAFT");
  });

  it("answers bad input with 400 or 404 and a pointer to it", async () => {
    const missing = randomUUID();
    const unknown = await create({ template_id: missing });
    expect([unknown.status, errorOf(unknown)]).toEqual([
      404,
      {
        code: "NOT_FOUND",
        title: "Ресурс не найден",
        detail: `template ${missing} does not exist`,
        source: { pointer: "/template_id" },
      },
    ]);
    const shares = await create({
      template_id: "",
      holdout_percent: 10,
      variants: [
        { template_id: templateId, share_percent: 50 },
        { template_id: templateId, template_version: 1, share_percent: 50 },
      ],
    });
    expect([shares.status, errorOf(shares).code, errorOf(shares).source]).toEqual([
      400,
      "VALIDATION_ERROR",
      { pointer: "/variants" },
    ]);
    expect(errorOf(shares).detail).toBe(
      "the variants' shares add up to 100%; with a hold-out of 10% they must add up to 90%",
    );
    const long = await create({ name: "к".repeat(256) });
    expect([long.status, errorOf(long).source]).toEqual([400, { pointer: "/name" }]);

    const id = await createdId({
      variants: [
        { template_id: templateId, share_percent: 45 },
        { template_id: templateId, template_version: 1, share_percent: 45 },
      ],
      holdout_percent: 10,
    });
    const past = await command(id, "schedule", {
      scheduled_time: new Date(Date.now() - 60_000).toISOString(),
    });
    expect([past.status, errorOf(past).code, errorOf(past).source]).toEqual([
      400,
      "VALIDATION_ERROR",
      { pointer: "/scheduled_time" },
    ]);
    const nobody = await command(await createdId({ target_segment_id: "" }), "start");
    expect([nobody.status, errorOf(nobody).code]).toEqual([412, "FAILED_PRECONDITION"]);
    expect(errorOf(nobody).detail).toMatch(/has no target_segment_id/);
    expect((await get(randomUUID())).status).toBe(404);
  });
});
