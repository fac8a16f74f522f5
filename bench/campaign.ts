// A campaign to N uploaded recipients end to end, against the real local services, with the built
// service as two processes (an api role and a worker role) and the sink provider serving in_app:
//   1. the segment's N user ids streamed as CSV through POST /segments/{id}/members, timed;
//   2. a campaign over it with no rate of its own, started: time until every member is submitted
//      (GetCampaign's progress) and until every message is `sent` in the message log, the rate
//      overall and per 10 s window;
//   3. a pause mid-way: how long the pause call takes, and until no new message is recorded; then
//      the resume: until messages are recorded again;
//   4. peak RSS (VmHWM) of the worker and the api, CPU per message by process;
//   5. exactly once: each of the N members has one message of the campaign, no one two, nobody
//      outside the segment. The bench exits 1 otherwise.
// The campaign is archived at the end. On the private database (the default) everything it
// wrote goes with the database; on the shared one its template, segment, campaign and message
// rows stay (they are test data: generated ids, no addresses).
// `npm run bench:campaign` (builds and migrates first). Settings, as env:
//   BENCH_RECIPIENTS=1000000      the segment's members
//   BENCH_PAUSE_AT=0.5            the share of the audience submitted when the campaign is paused (0: no pause)
//   BENCH_PAUSE_SECONDS=3         how long it stays paused once nothing moves
//   BENCH_TIMEOUT_SECONDS=1800    the longest wait of one phase
//   BENCH_KAFKA=private           `private`: a Kafka broker of its own (see private-services.ts); `shared`: KAFKA_BROKERS
//   BENCH_DATABASE=private        `private`: PostgreSQL and ClickHouse databases of its own; `shared`: as they are
//   BENCH_CPU_PROF=DIR            the worker runs with --cpu-prof, its profile written to DIR on exit
//   CAMPAIGN_RATE_PER_SECOND=1000000, CAMPAIGN_PAGE_SIZE=5000: the bench's defaults for a fast run;
//   every other variable (PIPELINE_*, OUTBOX_*, DATABASE_POOL_MAX, …) reaches the service as it is.
// Progress goes to stderr, the figures to stdout. The machine is shared: figures are indicative.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as pause } from "node:timers/promises";
import { AUTH_ENV, authHeaders } from "../test/support/credentials.ts";
import { createActiveTemplate, testOrm } from "../test/support/pipeline.ts";
import { type ServiceProcess, startServiceProcess } from "../test/support/service-process.ts";
import { startPrivateServices } from "./private-services.ts";
import { cpuByProcess, cpuSeconds, cpuSecondsLine, peakRssBytes, rssBytes } from "./process-figures.ts";
import { WorkerQueues } from "./worker-queues.ts";

function count(env: string, fallback: number): number {
  const value = Number(process.env[env] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${env} must be a number, at least 0`);
  return value;
}
const recipients = Math.floor(count("BENCH_RECIPIENTS", 1_000_000));
const pauseAt = count("BENCH_PAUSE_AT", 0.5);
const pausedMs = count("BENCH_PAUSE_SECONDS", 3) * 1000;
const timeoutMs = count("BENCH_TIMEOUT_SECONDS", 1_800) * 1000;
const cpuProfileDir = process.env.BENCH_CPU_PROF;
if (recipients < 1) throw new Error("BENCH_RECIPIENTS must be at least 1");
if (pauseAt >= 1) throw new Error("BENCH_PAUSE_AT is a share of the audience, below 1");

const API = "/api/v1/notifications";
// The runner's settings for a fast run, unless the environment says otherwise.
const tuning = {
  CAMPAIGN_RATE_PER_SECOND: process.env.CAMPAIGN_RATE_PER_SECOND ?? "1000000",
  CAMPAIGN_PAGE_SIZE: process.env.CAMPAIGN_PAGE_SIZE ?? "5000",
};
const run = randomUUID().slice(0, 8);
const now = () => performance.now();
const progress = (line: string) => console.error(`[bench:campaign] ${line}`);
const fmt = (ms: number | undefined) => (ms === undefined ? "not reached" : `${(ms / 1000).toFixed(1)} s`);
const perSecond = (n: number, ms: number) => ((n * 1000) / Math.max(1, ms)).toFixed(0);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

const tempDir = mkdtempSync(join(tmpdir(), "bench-campaign-"));
const { kafka: privateKafka, databases } = await startPrivateServices({
  tempDir,
  name: `notification_bench_${run}`,
  kafka: (process.env.BENCH_KAFKA ?? "private") === "private",
  database: (process.env.BENCH_DATABASE ?? "private") === "private",
  say: progress,
});
const orm = testOrm();
const serviceEnv: Record<string, string> = {
  ...AUTH_ENV,
  ...tuning,
  // info: nothing per message at that level.
  LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  // In-app messages to the sink rather than the inbox; no file of what it sent.
  SINK_CHANNELS: "in_app",
  SINK_FILE: "",
};
let api: ServiceProcess | undefined;
let worker: ServiceProcess | undefined;
const queues = new WorkerQueues(() => worker?.httpUrl);
let failed = false;

// ---- the API ------------------------------------------------------------------------------

async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${api?.httpUrl}${API}${path}`, {
    method,
    headers: {
      ...authHeaders("bench-marketer", ["marketer"]),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

interface Progress {
  status: string;
  submitted: number;
}
async function campaignProgress(id: string): Promise<Progress> {
  const campaign = await call("GET", `/campaigns/${id}`);
  const figures = (campaign.progress ?? {}) as Record<string, string>;
  return { status: String(campaign.status), submitted: Number(figures.submitted ?? 0) };
}

/** The i-th member of this run's segment: a UUID new to every run. */
function userId(index: number): string {
  return `${run}-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;
}

/** The members as CSV, made as the upload reads them: the bench holds a chunk, not the segment. */
function csvBody(total: number): ReadableStream<Uint8Array> {
  const LINES = 10_000;
  let next = 0;
  const encoder = new TextEncoder();
  return new ReadableStream({
    pull(controller) {
      if (next >= total) {
        controller.close();
        return;
      }
      const lines: string[] = next === 0 ? ["user_id"] : [];
      const end = Math.min(total, next + LINES);
      for (; next < end; next++) lines.push(userId(next));
      controller.enqueue(encoder.encode(`${lines.join("\n")}\n`));
    },
  });
}

async function uploadSegment(): Promise<{ id: string; ms: number }> {
  const created = await call("POST", "/segments", { name: `Бенчмарк ${run}`, description: "bench:campaign" });
  const id = String(created.id);
  const started = now();
  const response = await fetch(`${api?.httpUrl}${API}/segments/${id}/members`, {
    method: "POST",
    headers: { ...authHeaders("bench-marketer", ["marketer"]), "content-type": "text/csv" },
    body: csvBody(recipients),
    duplex: "half",
  } as RequestInit);
  const answer = (await response.json()) as Record<string, unknown>;
  const ms = now() - started;
  if (!response.ok) throw new Error(`the upload answered ${response.status}: ${JSON.stringify(answer)}`);
  const report = answer.upload_report as Record<string, string>;
  if (Number(report.members_added) !== recipients) {
    throw new Error(`the upload added ${report.members_added} members of ${recipients}`);
  }
  return { id, ms };
}

// ---- what the message log says ------------------------------------------------------------

async function query<Row>(sql: string, values: unknown[] = []): Promise<Row | undefined> {
  const rows = await orm.em.fork().getConnection().execute<Row[]>(sql, values);
  return rows[0];
}

/** The campaign's messages recorded so far, whatever their status. */
async function recorded(campaignId: string): Promise<number> {
  const row = await query<{ n: string }>(
    "SELECT count(*) AS n FROM notification_message_log WHERE campaign_id = ?",
    [campaignId],
  );
  return Number(row?.n ?? 0);
}

async function sentInLog(campaignId: string): Promise<number> {
  const row = await query<{ n: string }>(
    "SELECT count(*) AS n FROM notification_message_log WHERE campaign_id = ? AND status = 'sent'",
    [campaignId],
  );
  return Number(row?.n ?? 0);
}

/** `sent 10, suppressed GLOBAL_UNSUBSCRIBE 2, …`: the campaign's messages by status and reason. */
async function statusesOf(campaignId: string): Promise<string> {
  const rows = await orm.em
    .fork()
    .getConnection()
    .execute<{ status: string; details: string | null; n: string }[]>(
      `SELECT status, left(status_details, 40) AS details, count(*) AS n FROM notification_message_log
        WHERE campaign_id = ? GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10`,
      [campaignId],
    );
  return (
    rows.map((row) => `${row.status}${row.details ? ` ${row.details}` : ""} ${row.n}`).join(", ") ||
    "no message"
  );
}

/** In-app messages the worker's dispatcher handed to the sink, from its /metrics: cheap to ask often. */
async function dispatchedSent(): Promise<number> {
  try {
    const text = await (await fetch(`${worker?.httpUrl}/metrics`)).text();
    const line = /^notification_dispatched_total\{([^}]*)\} (\S+)$/gm;
    let sum = 0;
    for (const match of text.matchAll(line)) {
      if (match[1]?.includes('channel="in_app"') && match[1].includes('outcome="sent"'))
        sum += Number(match[2]);
    }
    return sum;
  } catch {
    return Number.NaN;
  }
}

// ---- the processes ------------------------------------------------------------------------

const peaks = { worker: 0, api: 0 };
function samplePeaks(): void {
  if (worker?.child.pid) peaks.worker = Math.max(peaks.worker, peakRssBytes(worker.child.pid) || 0);
  if (api?.child.pid) peaks.api = Math.max(peaks.api, peakRssBytes(api.child.pid) || 0);
}

function kindOf(pid: number): string | undefined {
  if (pid === worker?.child.pid) return "worker";
  if (pid === api?.child.pid) return "api";
  if (pid === process.pid) return "bench";
  return undefined;
}

/** The last warnings and errors a process logged: their messages and errors' messages, no fields of theirs. */
function warningsOf(service: ServiceProcess): string {
  return service.logs
    .filter((line) => line.level === "warn" || line.level === "error" || line.level === "fatal")
    .slice(-15)
    .map(
      (line) => `${String(line.message)}${line.err ? `: ${(line.err as { message?: string }).message}` : ""}`,
    )
    .join("\n");
}

async function startWorker(): Promise<ServiceProcess> {
  const started = await startServiceProcess({
    role: "worker",
    env: serviceEnv,
    nodeFlags: cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`] : [],
  });
  const deadline = Date.now() + 60_000;
  while (!started.logs.some((line) => line.message === "send pipeline consuming")) {
    if (Date.now() > deadline) throw new Error("the worker is not consuming after 60 s");
    await pause(50);
  }
  return started;
}

// ---- the phases ---------------------------------------------------------------------------

/** Polls `probe` every `everyMs` until it holds or the timeout; the ms it took, undefined at the timeout. */
async function waitFor(
  probe: () => Promise<boolean>,
  everyMs: number,
  from = now(),
): Promise<number | undefined> {
  while (now() - from < timeoutMs) {
    if (await probe()) return now() - from;
    await pause(everyMs);
  }
  return undefined;
}

interface Run {
  submittedMs?: number;
  sentMs?: number;
  pause?: { callMs: number; stoppedMs: number; atPause: number; resumedMs?: number };
}

/**
 * The campaign from its start until every message is sent: progress lines every 10 s with that
 * window's rates, the pause once `pauseAt` of the audience is submitted.
 */
async function follow(campaignId: string, started: number): Promise<Run> {
  const result: Run = {};
  let window = { at: started, submitted: 0, sent: 0 };
  let last = { submitted: 0, sent: 0, status: "" };
  let pausedFor = 0;
  while (now() - started < timeoutMs) {
    samplePeaks();
    const [state, sent] = await Promise.all([campaignProgress(campaignId), dispatchedSent()]);
    last = { submitted: state.submitted, sent: Number.isNaN(sent) ? last.sent : sent, status: state.status };
    if (result.submittedMs === undefined && state.submitted >= recipients)
      result.submittedMs = now() - started;
    if (
      result.sentMs === undefined &&
      last.sent >= recipients &&
      (await sentInLog(campaignId)) >= recipients
    ) {
      result.sentMs = now() - started;
    }
    if (now() - window.at >= 10_000) {
      const ms = now() - window.at;
      const waiting = await queues.sample();
      progress(
        `${fmt(now() - started)}: submitted ${last.submitted} (${perSecond(last.submitted - window.submitted, ms)}/s), sent ${last.sent} (${perSecond(last.sent - window.sent, ms)}/s) of ${recipients}; worker RSS ${mib(rssBytes(worker?.child.pid ?? 0))}; ${waiting}`,
      );
      window = { at: now(), submitted: last.submitted, sent: last.sent };
    }
    if (result.sentMs !== undefined && result.submittedMs !== undefined) break;
    if (
      pauseAt > 0 &&
      !result.pause &&
      state.submitted >= pauseAt * recipients &&
      state.submitted < recipients
    ) {
      const pauseStarted = now();
      result.pause = await pauseAndResume(campaignId);
      pausedFor += now() - pauseStarted;
      window = {
        at: now(),
        submitted: (await campaignProgress(campaignId)).submitted,
        sent: await dispatchedSent(),
      };
      continue;
    }
    await pause(500);
  }
  if (pausedFor > 0) progress(`(${fmt(pausedFor)} of that paused and measuring the pause)`);
  return result;
}

/** Pauses the campaign, times until its messages stop, waits, resumes, times until they go again. */
async function pauseAndResume(campaignId: string): Promise<NonNullable<Run["pause"]>> {
  progress("pausing");
  const asked = now();
  await call("POST", `/campaigns/${campaignId}:pause`, {});
  const callMs = now() - asked;
  // Stopped: the count of its messages the same for 2 s; it stopped when that count was first seen.
  let count = await recorded(campaignId);
  let seenAt = now();
  while (now() - seenAt < 2_000 && now() - asked < timeoutMs) {
    await pause(100);
    const latest = await recorded(campaignId);
    if (latest !== count) {
      count = latest;
      seenAt = now();
    }
  }
  const stoppedMs = seenAt - asked;
  const atPause = (await campaignProgress(campaignId)).submitted;
  progress(`paused at ${atPause} submitted, ${count} recorded; resuming in ${fmt(pausedMs)}`);
  await pause(pausedMs);
  const resumeAsked = now();
  await call("POST", `/campaigns/${campaignId}:resume`, {});
  const resumedMs = await waitFor(async () => (await recorded(campaignId)) > count, 50, resumeAsked);
  progress(`resumed after ${fmt(resumedMs)}`);
  return { callMs, stoppedMs, atPause, ...(resumedMs === undefined ? {} : { resumedMs }) };
}

/** Each member once: as many messages as distinct users as members, each of them in the segment. */
async function exactlyOnce(campaignId: string, segmentId: string): Promise<boolean> {
  const row = await query<{ messages: string; users: string; sent: string }>(
    `SELECT count(*) AS messages, count(DISTINCT user_id) AS users, count(*) FILTER (WHERE status = 'sent') AS sent
       FROM notification_message_log WHERE campaign_id = ?`,
    [campaignId],
  );
  const outside = await query<{ n: string }>(
    `SELECT count(*) AS n FROM notification_message_log l
      WHERE l.campaign_id = ? AND NOT EXISTS (
        SELECT 1 FROM notification_segment_members m WHERE m.segment_id = ? AND m.user_id = l.user_id::uuid)`,
    [campaignId, segmentId],
  );
  const [messages, users, sent, strangers] = [row?.messages, row?.users, row?.sent, outside?.n].map(Number);
  // A run cut short by its timeout still shows whether anyone got the campaign twice.
  const twice = messages !== users || strangers !== 0;
  const ok = !twice && messages === recipients;
  console.log(
    `exactly once: ${users} distinct users with a message of the campaign, ${messages} messages (${sent} sent), ${strangers} outside the segment, of ${recipients} members: ${ok ? "OK" : twice ? "VIOLATED" : "INCOMPLETE (nobody twice)"}`,
  );
  return ok;
}

async function main(): Promise<void> {
  console.log(
    `campaign bench, run ${run}: ${recipients} recipients, in_app to the sink, ${Object.entries(tuning)
      .map(([name, value]) => `${name}=${value}`)
      .join(
        " ",
      )}, ${databases ? "a new database" : "the shared database"}, ${privateKafka ? "a Kafka broker of its own" : "the shared Kafka"}`,
  );
  progress("starting the api and worker processes");
  [api, worker] = await Promise.all([
    startServiceProcess({ role: "api", env: serviceEnv, nodeFlags: [] }),
    startWorker(),
  ]);
  const templateId = await createActiveTemplate(
    api.httpUrl,
    `bench_campaign_${run}`,
    [{ language_code: "ru", subject: "Распродажа", body: "Скидки до 50% до конца недели", body_html: "" }],
    "CHANNEL_IN_APP",
  );

  progress(`uploading ${recipients} members`);
  const segment = await uploadSegment();
  samplePeaks();
  console.log(
    `upload: ${recipients} user ids (CSV, streamed) in ${fmt(segment.ms)}, ${perSecond(recipients, segment.ms)} rows/s; api peak RSS ${mib(peaks.api)}`,
  );

  const created = await call("POST", "/campaigns", {
    name: `Бенчмарк ${run}`,
    target_segment_id: `upload:${segment.id}`,
    template_id: templateId,
  });
  const campaignId = String(created.id);
  const cpu = cpuByProcess(kindOf);
  const workerCpuBefore = cpuSeconds(worker.child.pid ?? 0);
  const started = now();
  await call("POST", `/campaigns/${campaignId}:start`, {});
  const result = await follow(campaignId, started);
  const spent = cpu();
  const workerCpu = cpuSeconds(worker.child.pid ?? 0) - workerCpuBefore;
  samplePeaks();
  // A run cut short by its timeout: per message of those sent, and completed early below so it stops.
  const handled = result.sentMs !== undefined ? recipients : await sentInLog(campaignId);
  const pausedFor = result.pause ? result.pause.stoppedMs + pausedMs + (result.pause.resumedMs ?? 0) : 0;
  console.log(`campaign to ${recipients} members (no rate of its own):`);
  console.log(
    `  all submitted after ${fmt(result.submittedMs)}, all sent in the message log after ${fmt(result.sentMs)} from the start`,
  );
  if (result.sentMs !== undefined) {
    console.log(
      `  rate: ${perSecond(recipients, result.sentMs)} msgs/s overall, ${perSecond(recipients, result.sentMs - pausedFor)} msgs/s without the ${fmt(pausedFor)} paused`,
    );
  } else {
    failed = true;
    console.log(`  NOT SENT within ${fmt(timeoutMs)}: the message log holds ${await statusesOf(campaignId)}`);
    progress(`the worker's last warnings:\n${warningsOf(worker)}`);
  }
  if (result.pause) {
    console.log(
      `  pause at ${result.pause.atPause} submitted: the call answered in ${fmt(result.pause.callMs)}, no new message ${fmt(result.pause.stoppedMs)} after it was asked`,
    );
    console.log(
      `  resume after ${fmt(pausedMs)}: messages again ${fmt(result.pause.resumedMs)} after it was asked`,
    );
  }
  console.log(`  peak RSS (VmHWM): worker ${mib(peaks.worker)}, api ${mib(peaks.api)}`);
  console.log(
    `  worker CPU ${((workerCpu * 1e6) / Math.max(1, handled)).toFixed(0)} µs per message of the ${handled} sent; CPU of the run by process: ${cpuSecondsLine(spent)}`,
  );
  console.log(`  peak queues (worker /metrics every 10 s): ${queues.peaksLine()}`);

  const done =
    result.sentMs === undefined
      ? undefined
      : await waitFor(
          async () => (await campaignProgress(campaignId)).status === "CAMPAIGN_STATUS_COMPLETED",
          250,
        );
  if (done === undefined) progress("the campaign did not complete: completing it early");
  await call("POST", `/campaigns/${campaignId}:${done === undefined ? "complete" : "archive"}`, {}).catch(
    (error) => progress(`could not close the campaign: ${(error as Error).message}`),
  );
  // Completed, it sends no more while the log is counted (a page under way ends first: the call waits for it).
  if (!(await exactlyOnce(campaignId, segment.id))) failed = true;
  if (done === undefined) await call("POST", `/campaigns/${campaignId}:archive`, {}).catch(() => undefined);
  console.log(
    databases
      ? "the campaign is archived; its database is dropped"
      : `the campaign is archived; its template, segment ${segment.id} and ${recipients} message rows stay in the shared database`,
  );
}

let cleaned: Promise<void> | undefined;
/** Stops what the bench started and deletes what it created; once, whether it ended or was interrupted. */
function cleanUp(): Promise<void> {
  cleaned ??= (async () => {
    await Promise.allSettled([worker?.stop(), api?.stop()]);
    await orm.close(true);
    await databases?.drop();
    privateKafka?.stop();
    rmSync(tempDir, { recursive: true, force: true });
  })();
  return cleaned;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    progress(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}
try {
  await main();
} catch (error) {
  failed = true;
  progress(`failed: ${(error as Error).message}`);
} finally {
  await cleanUp();
}
process.exit(failed ? 1 : 0);
