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
  events = await collect(testKafka("campaign-runner-e2e"), EVENTS_TOPIC);
  templateId = await createActiveTemplate(
    api.httpUrl,
    `campaign_runner_${run}`,
    [{ language_code: "ru", subject: "Распродажа", body: "Скидки до 50%", body_html: "" }],
    "CHANNEL_IN_APP",
  );
  await Promise.all([startWorker(), startWorker()]);
}, 120_000);

afterAll(async () => {
  await events?.consumer.disconnect();
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
});
