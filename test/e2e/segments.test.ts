import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Role } from "../../core/caller.ts";
import { type AnalyticsPeer, startAnalyticsPeer } from "../../scripts/analytics-peer/analytics-peer.ts";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import { createActiveTemplate } from "../support/pipeline.ts";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.ts";

// Audiences against the built service: segments created over REST, their members streamed to
// the upload endpoint as CSV or NDJSON with a report of bad rows, who may upload, the uploads
// refused whole, and campaigns that leave draft only for a segment that exists, uploaded or
// in the Analytics Service (its local peer, with faults).
const API = "/api/v1/notifications";
const ANALYTICS_TOKEN = "e2e-analytics-token";
const run = randomUUID().slice(0, 8);
let service: ServiceProcess;
let analytics: AnalyticsPeer;
let templateId = "";

type Who = "admin" | "marketer" | "support" | "service" | "user" | "anonymous";
const ROLES: Record<Exclude<Who, "anonymous">, Role> = {
  admin: "admin",
  marketer: "marketer",
  support: "support",
  service: "service",
  user: "user",
};
const headersOf = (who: Who): Record<string, string> =>
  who === "anonymous" ? {} : authHeaders(who === "user" ? randomUUID() : `${who}-1`, [ROLES[who]]);

interface ErrorJson {
  code: string;
  detail: string;
  source?: { pointer?: string; parameter?: string };
}

interface Answer {
  status: number;
  // The answers read below: a segment, a campaign, a page of segments, or the errors.
  json: Record<string, unknown> & { errors?: ErrorJson[] };
}

async function answerOf(response: Response): Promise<Answer> {
  return { status: response.status, json: (await response.json()) as Answer["json"] };
}

function call(method: string, path: string, body?: unknown, who: Who = "marketer"): Promise<Answer> {
  return fetch(`${service.httpUrl}${API}${path}`, {
    method,
    headers: { ...headersOf(who), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then(answerOf);
}

function upload(
  segmentId: string,
  body: string | ReadableStream<Uint8Array>,
  contentType: string | undefined = "text/csv",
  who: Who = "marketer",
): Promise<Answer> {
  return fetch(`${service.httpUrl}${API}/segments/${segmentId}/members`, {
    method: "POST",
    headers: { ...headersOf(who), ...(contentType ? { "content-type": contentType } : {}) },
    body,
    // A stream is sent as it is made; fetch asks for this to send one.
    ...(typeof body === "string" ? {} : { duplex: "half" }),
  } as RequestInit).then(answerOf);
}

async function segment(name = `Сегмент ${run}`): Promise<string> {
  const created = await call("POST", "/segments", { name, description: "из CRM" });
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  return String(created.json.id);
}

function errorOf(answer: Answer): ErrorJson {
  const [error] = answer.json.errors ?? [];
  if (!error) throw new Error(`expected an error, got ${answer.status} ${JSON.stringify(answer.json)}`);
  return error;
}

beforeAll(async () => {
  analytics = await startAnalyticsPeer({
    token: ANALYTICS_TOKEN,
    segments: { "spring-buyers": { displayName: "Покупатели весны", size: 5_000 } },
  });
  service = await startServiceProcess({
    role: "api",
    env: {
      ...AUTH_ENV,
      ANALYTICS_URL: analytics.url,
      ANALYTICS_TOKEN,
      ANALYTICS_TIMEOUT_MS: "300",
      ANALYTICS_ATTEMPTS: "3",
    },
  });
  templateId = await createActiveTemplate(service.httpUrl, `segments_${run}`, [
    { language_code: "ru", subject: "Весна", body: "Скидки", body_html: "<p>Скидки</p>" },
  ]);
});

afterAll(async () => {
  await service?.stop();
  await analytics?.close();
});

beforeEach(() => {
  analytics.clear();
  analytics.setFault({ mode: "none" });
});

const A = randomUUID();
const B = randomUUID();
const C = randomUUID();

describe("uploading a segment's members", () => {
  it("takes CSV with a header, reports bad rows by line, and keeps the report on the segment", async () => {
    const id = await segment();
    const created = await call("GET", `/segments/${id}`, undefined, "support");
    expect(created.json).toMatchObject({
      target_segment_id: `upload:${id}`,
      status: "SEGMENT_STATUS_AWAITING_UPLOAD",
      member_count: "0",
      created_by: "marketer-1",
    });
    const csv = [
      "email,user_id",
      `a@example.com,${A}`,
      `b@example.com,${B.toUpperCase()}`,
      "c@example.com,42",
      "",
      "d@example.com",
      `a@example.com,${A}`,
      `c@example.com,${C}`,
    ].join("\n");
    const uploaded = await upload(id, csv, "text/csv; charset=utf-8");
    expect(uploaded.status, JSON.stringify(uploaded.json)).toBe(200);
    const report = {
      format: "SEGMENT_UPLOAD_FORMAT_CSV",
      rows: "6",
      members_added: "3",
      duplicates: "1",
      bad_rows: "2",
      first_bad_rows: [
        { line: "4", reason: "BAD_ROW_REASON_NOT_A_UUID", detail: "user_id is not a UUID" },
        {
          line: "6",
          reason: "BAD_ROW_REASON_MISSING_USER_ID",
          detail: "the row has 1 columns; user_id is column 2",
        },
      ],
    };
    expect(uploaded.json).toMatchObject({
      status: "SEGMENT_STATUS_READY",
      member_count: "3",
      upload_report: report,
    });
    expect(typeof uploaded.json.upload_time).toBe("string");
    // Later, and to support: the same report.
    expect((await call("GET", `/segments/${id}`, undefined, "support")).json).toMatchObject({
      upload_report: report,
    });
    const listed = await call(
      "GET",
      `/segments?name_contains=${encodeURIComponent(run)}`,
      undefined,
      "support",
    );
    expect((listed.json.segments as { id: string }[]).map((each) => each.id)).toContain(id);
  });

  it("takes NDJSON, once: a segment's members do not change", async () => {
    const id = await segment();
    const ndjson = [
      JSON.stringify({ user_id: A }),
      "{oops",
      JSON.stringify({ userId: B }),
      JSON.stringify({ id: C }),
    ].join("\n");
    const uploaded = await upload(id, `${ndjson}\n`, "application/x-ndjson");
    expect(uploaded.json).toMatchObject({
      member_count: "2",
      upload_report: {
        format: "SEGMENT_UPLOAD_FORMAT_NDJSON",
        rows: "4",
        bad_rows: "2",
        first_bad_rows: [
          { line: "2", reason: "BAD_ROW_REASON_MALFORMED_JSON" },
          { line: "4", reason: "BAD_ROW_REASON_MISSING_USER_ID" },
        ],
      },
    });
    const again = await upload(id, JSON.stringify({ user_id: C }), "application/x-ndjson");
    expect([again.status, errorOf(again).code]).toEqual([412, "FAILED_PRECONDITION"]);
    expect(errorOf(again).detail).toMatch(/create another segment for another list$/);
  });

  it("streams 100,000 ids sent as they are made", async () => {
    const id = await segment();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 100_000) return controller.close();
        const lines = Array.from({ length: 1_000 }, () => randomUUID()).join("\n");
        sent += 1_000;
        controller.enqueue(new TextEncoder().encode(`${lines}\n`));
      },
    });
    const uploaded = await upload(id, body);
    expect(uploaded.status, JSON.stringify(uploaded.json)).toBe(200);
    expect(uploaded.json).toMatchObject({
      member_count: "100000",
      upload_report: { rows: "100000", bad_rows: "0" },
    });
  });

  it("takes two uploads at once, refuses a third with 429, and lets go of one whose client left", async () => {
    const ids = [await segment(), await segment(), await segment()];
    const aborts = [new AbortController(), new AbortController()];
    // Two uploads that send one line, then nothing, until their clients give up.
    const stalled = aborts.map((abort, index) =>
      fetch(`${service.httpUrl}${API}/segments/${ids[index]}/members`, {
        method: "POST",
        headers: { ...headersOf("marketer"), "content-type": "text/csv" },
        body: new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(`${randomUUID()}\n`));
          },
        }),
        duplex: "half",
        signal: abort.signal,
      } as RequestInit).catch((error: unknown) => error),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const third = await fetch(`${service.httpUrl}${API}/segments/${ids[2]}/members`, {
      method: "POST",
      headers: { ...headersOf("marketer"), "content-type": "text/csv" },
      body: `${A}\n`,
    });
    expect([third.status, third.headers.get("retry-after")]).toEqual([429, "5"]);
    expect(((await third.json()) as Answer["json"]).errors?.[0]?.code).toBe("RATE_LIMITED");
    for (const abort of aborts) abort.abort();
    await Promise.all(stalled);
    // Their transactions rolled back and their places freed: both segments still await an upload.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const id of ids.slice(0, 2)) {
      expect((await call("GET", `/segments/${id}`)).json).toMatchObject({
        status: "SEGMENT_STATUS_AWAITING_UPLOAD",
      });
      expect((await upload(id, `${A}\n`)).status).toBe(200);
    }
    expect(
      service.logs.filter((line) => line.message === "segment upload cut short by the client"),
    ).toHaveLength(2);
  });

  it("lets admins and marketers upload, and refuses support, services, users and the anonymous before reading", async () => {
    const outcomes: Record<string, number> = {};
    for (const who of ["admin", "marketer", "support", "service", "user", "anonymous"] as const) {
      outcomes[who] = (await upload(await segment(), `${A}\n`, "text/csv", who)).status;
    }
    expect(outcomes).toEqual({
      admin: 200,
      marketer: 200,
      support: 403,
      service: 403,
      user: 403,
      anonymous: 401,
    });
    const refused = await upload(await segment(), `${A}\n`, "text/csv", "support");
    expect(errorOf(refused)).toEqual({
      code: "PERMISSION_DENIED",
      title: "Недостаточно прав",
      detail: "the method needs one of the roles admin, marketer",
    });
  });

  it("refuses whole, with a clear 4xx, an upload it cannot take, and the segment still awaits one", async () => {
    const id = await segment();
    const long = await upload(id, `${A}\n${"x".repeat(10_000)}\n${B}\n`);
    expect([long.status, errorOf(long).code, errorOf(long).detail]).toEqual([
      400,
      "VALIDATION_ERROR",
      "line 2 is longer than 8192 bytes: an upload is one user id a line, as CSV or NDJSON",
    ]);
    // curl's default for --data-binary, and none at all.
    const form = await upload(id, `${A}\n`, "application/x-www-form-urlencoded");
    expect([form.status, errorOf(form).code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    expect(errorOf(form).detail).toMatch(/send text\/csv \(a user_id column\) or application\/x-ndjson/);
    const bare = await fetch(`${service.httpUrl}${API}/segments/${id}/members`, {
      method: "POST",
      headers: headersOf("marketer"),
      body: new Blob([`${A}\n`]),
    }).then(answerOf);
    expect([bare.status, errorOf(bare).detail]).toEqual([
      415,
      'Content-Type missing: send text/csv (a user_id column) or application/x-ndjson ({"user_id": "…"} a line)',
    ]);
    const empty = await upload(id, "");
    expect([empty.status, errorOf(empty).detail]).toEqual([
      400,
      "the body is empty: send the user ids, one a line, as CSV (a user_id column) or NDJSON",
    ]);
    const nothing = await upload(id, "user_id\nnope\n");
    expect([nothing.status, errorOf(nothing).detail]).toEqual([
      400,
      "none of the 1 rows is a user id the segment can take",
    ]);
    expect((await call("GET", `/segments/${id}`)).json).toMatchObject({
      status: "SEGMENT_STATUS_AWAITING_UPLOAD",
      member_count: "0",
    });
    const unknown = await upload(randomUUID(), `${A}\n`);
    expect([unknown.status, errorOf(unknown).code]).toEqual([404, "NOT_FOUND"]);
    const malformed = await upload("not-a-uuid", `${A}\n`);
    expect([malformed.status, errorOf(malformed).source]).toEqual([400, { parameter: "segment_id" }]);
    const read = await fetch(`${service.httpUrl}${API}/segments/${id}/members`, {
      headers: headersOf("marketer"),
    });
    expect([read.status, read.headers.get("allow")]).toEqual([405, "POST"]);
  });
});

describe("campaigns and their audience", () => {
  const draft = (target: string) =>
    call("POST", "/campaigns", { name: `Весна ${run}`, target_segment_id: target, template_id: templateId });
  const scheduled = async (target: string) => {
    const created = await draft(target);
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const at = new Date(Date.now() + 3_600_000).toISOString();
    return {
      id: String(created.json.id),
      answer: await call("POST", `/campaigns/${created.json.id}:schedule`, { scheduled_time: at }),
    };
  };

  it("refuses a target_segment_id that names no source, pointing at it in the body", async () => {
    const refused = await draft("spring-buyers");
    expect([refused.status, errorOf(refused).code, errorOf(refused).source]).toEqual([
      400,
      "VALIDATION_ERROR",
      { pointer: "/target_segment_id" },
    ]);
  });

  it("schedules a campaign to an uploaded segment, never to one that does not exist or awaits its members", async () => {
    const missing = `upload:${randomUUID()}`;
    const { answer: unknown } = await scheduled(missing);
    expect([unknown.status, errorOf(unknown).code, errorOf(unknown).source]).toEqual([
      404,
      "NOT_FOUND",
      { pointer: "/campaign/target_segment_id" },
    ]);
    expect(errorOf(unknown).detail).toMatch(new RegExp(`its target segment ${missing} does not exist`));
    const empty = await segment();
    const { answer: waiting } = await scheduled(`upload:${empty}`);
    expect([waiting.status, errorOf(waiting).detail]).toEqual([
      412,
      expect.stringMatching(/has no members yet: upload them first$/),
    ]);
    const full = await segment();
    await upload(full, `${A}\n${B}\n`);
    const { id: campaignId, answer: ok } = await scheduled(`upload:${full}`);
    expect([ok.status, ok.json.status]).toEqual([200, "CAMPAIGN_STATUS_SCHEDULED"]);
    // Its audience stays while the campaign is to read it; an unused segment goes.
    const kept = await call("DELETE", `/segments/${full}`);
    expect([kept.status, errorOf(kept).detail]).toEqual([
      412,
      `segment ${full} is the audience of campaigns ${campaignId} (scheduled): complete them first`,
    ]);
    expect((await call("DELETE", `/segments/${empty}`)).status).toBe(200);
    expect((await call("GET", `/segments/${empty}`)).status).toBe(404);
  });

  it("schedules a campaign to a segment of the Analytics Service, through two 503s, and not to one it lacks", async () => {
    analytics.setFault({ mode: "5xx", times: 2 });
    const { answer: ok } = await scheduled("analytics:spring-buyers");
    expect([ok.status, ok.json.status]).toEqual([200, "CAMPAIGN_STATUS_SCHEDULED"]);
    expect(analytics.messages().map((each) => each.fault)).toEqual(["5xx", "5xx", "none"]);
    const { answer: unknown } = await scheduled("analytics:autumn-buyers");
    expect([unknown.status, errorOf(unknown).source]).toEqual([
      404,
      { pointer: "/campaign/target_segment_id" },
    ]);
  });

  it("answers 503 saying why when the Analytics Service does not answer in time", async () => {
    analytics.setFault({ mode: "slow", delayMs: 2_000 });
    const { answer } = await scheduled("analytics:spring-buyers");
    expect([answer.status, errorOf(answer).code, errorOf(answer).detail]).toEqual([
      503,
      "SERVICE_UNAVAILABLE",
      "the Analytics Service did not answer GetSegment within 300 ms (3 attempts)",
    ]);
  });
});
