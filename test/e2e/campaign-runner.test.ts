import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Consumer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import {
  type CollectedRecord,
  collect,
  createActiveTemplate,
  EVENTS_TOPIC,
  pipelineEnv,
  testClickHouse,
  testKafka,
  testOrm,
} from "../support/pipeline.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";

// The campaign runner against the built service: an API process, and workers that run the
// campaigns in pages of 200; one of them is SIGKILLed mid-campaign.
const API = "/api/v1/notifications";
const MARKETER = randomUUID();
const run = randomUUID().slice(0, 8);
const env = {
  ...AUTH_ENV,
  ...pipelineEnv(join(mkdtempSync(join(tmpdir(), "campaign-runner-")), "sink.jsonl")),
  CAMPAIGN_PAGE_SIZE: "200",
  CAMPAIGN_POLL_MS: "100",
  // One campaign message a user an hour: every test's users are new, and get one campaign each but the capped one.
  CAMPAIGN_FREQUENCY_CAP: "1/1h",
};
let api: ServiceProcess;
const workers: ServiceProcess[] = [];
let orm: MikroORM;
let events: { records: CollectedRecord[]; consumer: Consumer };
let templateId = "";
const clickhouse = testClickHouse();

async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${api.httpUrl}${API}${path}`, {
    method,
    headers: {
      ...authHeaders(MARKETER, ["marketer"]),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** A segment of `count` new users and `known` ones, by its target_segment_id, and the users. */
async function uploadedSegment(
  count: number,
  known: string[] = [],
): Promise<{ target: string; users: string[] }> {
  const users = [...Array.from({ length: count }, () => randomUUID()), ...known];
  const created = await call("POST", "/segments", { name: `Аудитория ${run} ${randomUUID().slice(0, 4)}` });
  const uploaded = await fetch(`${api.httpUrl}${API}/segments/${String(created.id)}/members`, {
    method: "POST",
    headers: { ...authHeaders(MARKETER, ["marketer"]), "content-type": "text/csv" },
    body: `user_id\n${users.join("\n")}\n`,
  });
  expect(uploaded.status, await uploaded.clone().text()).toBe(200);
  return { target: `upload:${String(created.id)}`, users };
}

/** A started campaign to `target`, at its own rate. */
async function startedCampaign(target: string, sendRatePerSecond?: number): Promise<string> {
  const created = await call("POST", "/campaigns", {
    name: `Кампания ${run}`,
    target_segment_id: target,
    template_id: templateId,
    ...(sendRatePerSecond ? { send_rate_per_second: sendRatePerSecond } : {}),
  });
  const id = String(created.id);
  await call("POST", `/campaigns/${id}:start`, {});
  return id;
}

async function messagesOf(campaignId: string): Promise<{ messages: number; users: number }> {
  const [row] = await orm.em
    .fork()
    .getConnection()
    .execute<{ messages: string; users: string }[]>(
      "SELECT count(*) AS messages, count(DISTINCT user_id) AS users FROM notification_message_log WHERE campaign_id = ?",
      [campaignId],
    );
  return { messages: Number(row?.messages), users: Number(row?.users) };
}

async function submittedOf(campaignId: string): Promise<number> {
  const [row] = await orm.em
    .fork()
    .getConnection()
    .execute<{ submitted: string }[]>(
      "SELECT audience_submitted AS submitted FROM notification_campaigns WHERE id = ?",
      [campaignId],
    );
  return Number(row?.submitted);
}

async function completed(campaignId: string, timeoutMs: number): Promise<boolean> {
  return eventually(
    async () => (await call("GET", `/campaigns/${campaignId}`)).status === "CAMPAIGN_STATUS_COMPLETED",
    timeoutMs,
  );
}

/** Each of the users' campaign messages as [user, status, reason]. */
async function outcomesOf(campaignId: string): Promise<string[][]> {
  const rows = await orm.em
    .fork()
    .getConnection()
    .execute<{ user_id: string; status: string; status_details: string | null }[]>(
      "SELECT user_id, status, status_details FROM notification_message_log WHERE campaign_id = ?",
      [campaignId],
    );
  return rows.map((row: { user_id: string; status: string; status_details: string | null }) => [
    row.user_id,
    row.status,
    row.status_details ?? "",
  ]);
}

/** Each campaign message's user and variant, as the message log has them. */
async function variantsOf(campaignId: string): Promise<Map<string, string>> {
  const rows = await orm.em
    .fork()
    .getConnection()
    .execute<{ user_id: string; campaign_variant: string | null }[]>(
      "SELECT user_id, campaign_variant FROM notification_message_log WHERE campaign_id = ?",
      [campaignId],
    );
  return new Map(rows.map((row) => [row.user_id, row.campaign_variant ?? ""]));
}

/** The [previous, new, by] of each status event of the campaign so far. */
function changesOf(campaignId: string): string[][] {
  return events.records
    .map(
      (record) =>
        JSON.parse(record.value) as { type?: string; subject?: string; data: Record<string, string> },
    )
    .filter(
      (event) =>
        event.type === "com.platform.notification.campaign.status.changed.v1" && event.subject === campaignId,
    )
    .map(({ data }) => [data.previousStatus ?? "?", data.newStatus ?? "?", data.updatedBy ?? "?"]);
}

/** What the workers logged of the campaign runner, for a failure's message. */
function workersSaid(): string {
  return workers
    .flatMap((worker) => worker.logs.filter((line) => JSON.stringify(line).includes("campaign")))
    .map((line) => JSON.stringify(line))
    .slice(-20)
    .join("\n");
}

async function startWorker(): Promise<ServiceProcess> {
  const worker = await startServiceProcess({ role: "worker", env });
  workers.push(worker);
  const running = await eventually(
    async () => worker.logs.some((line) => line.message === "send pipeline consuming"),
    60_000,
  );
  expect(running, worker.output()).toBe(true);
  return worker;
}

beforeAll(async () => {
  api = await startServiceProcess({ role: "api", env });
  orm = testOrm();
  templateId = await createActiveTemplate(
    api.httpUrl,
    `campaign_runner_${run}`,
    [{ language_code: "ru", subject: "Распродажа", body: "Скидки до 50%", body_html: "" }],
    "CHANNEL_IN_APP",
  );
  await Promise.all([startWorker(), startWorker()]);
  // Once the workers are up: they create the topics, which a fresh broker does not have yet.
  events = await collect(testKafka("campaign-runner-e2e"), EVENTS_TOPIC);
}, 120_000);

afterAll(async () => {
  await events?.consumer.disconnect();
  await clickhouse.close();
  await orm?.close(true);
  await Promise.all([api?.stop(), ...workers.map((worker) => worker.stop().catch(() => undefined))]);
});

describe("the campaign runner", () => {
  it("sends a campaign to each of 2,000 users once, then completes it as the system", async () => {
    const { target } = await uploadedSegment(2_000);
    const id = await startedCampaign(target);
    expect(await completed(id, 60_000), workersSaid()).toBe(true);
    expect(await messagesOf(id)).toEqual({ messages: 2_000, users: 2_000 });
    expect(await submittedOf(id)).toBe(2_000);
    const campaign = await call("GET", `/campaigns/${id}`);
    expect(campaign).toMatchObject({
      updated_by: "system",
      stats_summary: { sent: "2000" },
      progress: { audience_size: "2000", submitted: "2000", eta_seconds: "0" },
    });
    expect(await eventually(async () => changesOf(id).length >= 4, 10_000)).toBe(true);
    expect(changesOf(id).at(-1)).toEqual(["active", "completed", "system"]);
  }, 90_000);

  it("records a user who opted out and one over the frequency cap as suppressed, with their reasons", async () => {
    const first = await uploadedSegment(1);
    const [capped] = first.users as [string];
    const firstId = await startedCampaign(first.target);
    expect(await completed(firstId, 30_000), workersSaid()).toBe(true);
    const { target, users } = await uploadedSegment(2, [capped]);
    const [optedOut, reached] = users as [string, string];
    const unsubscribed = await fetch(`${api.httpUrl}${API}/preferences/users/${optedOut}`, {
      method: "PUT",
      headers: { ...authHeaders(), "content-type": "application/json", "if-match": '"0"' },
      body: JSON.stringify({ global_unsubscribe: true }),
    });
    expect(unsubscribed.status, await unsubscribed.clone().text()).toBe(200);
    const id = await startedCampaign(target);
    expect(await completed(id, 30_000), workersSaid()).toBe(true);
    const outcomes = await outcomesOf(id);
    expect(outcomes).toHaveLength(3);
    expect(outcomes).toEqual(
      expect.arrayContaining([
        [optedOut, "suppressed", "GLOBAL_UNSUBSCRIBE"],
        [capped, "suppressed", "FREQUENCY_CAP"],
        [reached, expect.not.stringMatching(/^suppressed$/), expect.any(String)],
      ]),
    );
  }, 90_000);

  it("pauses at a page, resumes from its checkpoint, and sends nobody twice", async () => {
    const { target } = await uploadedSegment(2_000);
    const id = await startedCampaign(target, 400);
    expect(await eventually(async () => (await submittedOf(id)) >= 400, 20_000)).toBe(true);
    await call("POST", `/campaigns/${id}:pause`, {});
    const atPause = await submittedOf(id);
    expect(atPause).toBeLessThan(2_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await submittedOf(id)).toBe(atPause);
    await call("POST", `/campaigns/${id}:resume`, {});
    expect(await completed(id, 60_000)).toBe(true);
    expect(await messagesOf(id)).toEqual({ messages: 2_000, users: 2_000 });
  }, 90_000);

  it("resumes from the last checkpoint after its workers are SIGKILLed, and sends nobody twice", async () => {
    const { target } = await uploadedSegment(2_000);
    const id = await startedCampaign(target, 400);
    expect(await eventually(async () => (await submittedOf(id)) >= 400, 20_000)).toBe(true);
    for (const worker of workers) worker.child.kill("SIGKILL");
    const atKill = await submittedOf(id);
    expect(atKill).toBeLessThan(2_000);
    await startWorker();
    expect(await completed(id, 60_000)).toBe(true);
    expect(await messagesOf(id)).toEqual({ messages: 2_000, users: 2_000 });
  }, 150_000);

  it("rolls an A/B winner out: the sample gets both variants, the one its readers opened goes to everybody else", async () => {
    const other = await createActiveTemplate(
      api.httpUrl,
      `campaign_runner_b_${run}`,
      [{ language_code: "ru", subject: "Распродажа", body: "Только сегодня: скидки до 70%", body_html: "" }],
      "CHANNEL_IN_APP",
    );
    const { target, users } = await uploadedSegment(600);
    const created = await call("POST", "/campaigns", {
      name: `A/B ${run}`,
      target_segment_id: target,
      variants: [
        { template_id: templateId, share_percent: 45 },
        { template_id: other, share_percent: 45 },
      ],
      holdout_percent: 10,
      winner_rollout: { sample_percent: 30, wait_seconds: 6, metric: "WINNER_METRIC_OPEN_RATE" },
    });
    const id = String(created.id);
    await call("POST", `/campaigns/${id}:start`, {});
    const deciding = await eventually(async () => {
      const { progress } = (await call("GET", `/campaigns/${id}`)) as { progress?: { phase?: string } };
      return progress?.phase === "CAMPAIGN_RUN_PHASE_DECIDING";
    }, 30_000);
    expect(deciding, workersSaid()).toBe(true);

    // The sample's readers of B open it in their inbox once it is there; nobody opens A.
    const inboxed = await eventually(
      async () => (await outcomesOf(id)).every(([, status]) => status === "sent"),
      20_000,
    );
    expect(inboxed).toBe(true);
    const sample = await variantsOf(id);
    const readersOfB = [...sample].filter(([, variant]) => variant === "B").map(([user]) => user);
    expect(readersOfB.length).toBeGreaterThan(20);
    expect([...sample.values()].filter((variant) => variant === "A").length).toBeGreaterThan(20);
    for (const user of readersOfB) {
      const read = await fetch(`${api.httpUrl}${API}/inbox/users/${user}/messages:markAllRead`, {
        method: "POST",
        headers: { ...authHeaders(user, ["user"]), "content-type": "application/json" },
        body: "{}",
      });
      expect(read.status, await read.clone().text()).toBe(200);
    }

    expect(await completed(id, 60_000), workersSaid()).toBe(true);
    const campaign = (await call("GET", `/campaigns/${id}`)) as {
      winner_decision?: { winner: string; metric: string; variants: Record<string, unknown>[] };
      progress: { held_out: string; submitted: string };
    };
    expect(campaign.winner_decision).toMatchObject({
      metric: "WINNER_METRIC_OPEN_RATE",
      winner: "B",
      variants: [
        { variant: "A", template_id: templateId, sent: String(sample.size - readersOfB.length), opened: "0" },
        { variant: "B", template_id: other, sent: String(readersOfB.length) },
      ],
    });
    // Opened as their readers got to it within the wait: most, if not all.
    const b = campaign.winner_decision?.variants[1] as { opened: string; rate: number };
    expect(Number(b.opened)).toBeGreaterThan(readersOfB.length / 2);
    expect(b.rate).toBeCloseTo(Number(b.opened) / readersOfB.length, 6);
    const all = await variantsOf(id);
    const heldOut = Number(campaign.progress.held_out);
    expect(heldOut).toBeGreaterThan(20);
    expect(all.size + heldOut).toBe(users.length);
    expect(await messagesOf(id)).toEqual({ messages: all.size, users: all.size });
    for (const [user, variant] of all) expect(variant).toBe(sample.get(user) ?? "B");

    // Every status event carries the campaign and the variant into ClickHouse.
    const wanted = JSON.stringify([
      ["A", sample.size - readersOfB.length],
      ["B", all.size - sample.size + readersOfB.length],
    ]);
    let seen = "";
    const counted = await eventually(async () => {
      const result = await clickhouse.query({
        query: `SELECT campaign_variant AS variant, uniqExact(user_id) AS users FROM notification_delivery_stats
                 WHERE campaign_id = {id:String} AND status = 'queued' GROUP BY variant ORDER BY variant`,
        query_params: { id },
        format: "JSONEachRow",
      });
      const rows = await result.json<{ variant: string; users: string }>();
      seen = JSON.stringify(rows.map((row) => [row.variant, Number(row.users)]));
      return seen === wanted;
    }, 20_000);
    expect(counted, seen).toBe(true);
  }, 120_000);
});
