// The send pipeline end to end, against the real local services, with the built service as a
// process (a worker role by default) and the sink provider (no latency, no file):
//   1. throughput: N send requests published as fast as possible, timed until all of them are
//      `sent` in PostgreSQL, their `sent` status events are on the events topic and ClickHouse
//      counts them;
//   2. latency at a fixed offered rate: publish → its `sent` status event, p50/p95/p99/max;
//   3. memory: the worker's RSS over the phases, and while it drains a backlog of M requests
//      published with it stopped;
//   4. the ceiling: bare kafkajs produce → consume of records of the same size on a fresh topic.
// `npm run bench:pipeline` (builds and migrates first). Settings, as `--name=value` or env:
//   --warmup    BENCH_WARMUP=20000     requests sent through first and not measured: the JIT of the
//                                      worker and of the (new) Kafka broker compiles on them
//   --requests  BENCH_REQUESTS=50000   requests of the throughput phase (0 skips it)
//   --rate      BENCH_RATE=1000        offered rate of the latency phase, requests/s
//   --seconds   BENCH_SECONDS=30       length of the latency phase (0 skips it)
//   --backlog   BENCH_BACKLOG=1000000  requests of the backlog phase (0 skips it)
//   --ceiling   BENCH_CEILING=50000    records of the kafkajs ceiling (0 skips it)
//   --timeout   BENCH_TIMEOUT_SECONDS=1800  the longest wait of one phase; past it, what was measured is printed
//   --role      BENCH_ROLE=worker      the role of the measured process (`worker` or `all`)
//   BENCH_SINK_FILE=1      the sink writes its JSON lines to a file in a temporary directory
//   BENCH_CPU_PROF=DIR     the worker runs with --cpu-prof, its profiles written to DIR on exit
//   --kafka     BENCH_KAFKA=private    `private`: a broker of its own (scripts/services, data in a temporary
//                                      directory, stopped at the end); `shared`: KAFKA_BROKERS, where
//                                      a test's worker in the same consumer groups would share our records
//   BENCH_ALLOW_SHARED=1   on the shared broker, run even when another process is in the worker's groups
//   --database BENCH_DATABASE=private `private`: a PostgreSQL and a ClickHouse database of its own on
//                                      the local servers (created, migrated, dropped at the end), so
//                                      every run starts from an empty message log and statistics;
//                                      `shared`: DATABASE_URL and CLICKHOUSE_DATABASE as they are
// Every other variable of the environment reaches the service as it is (PIPELINE_*, OUTBOX_*,
// STATS_*, DATABASE_POOL_MAX, …), so a tuning is tried without a change here. Progress goes to
// stderr, the figures to stdout. The shared machine makes figures indicative: rerun it quietly.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as pause } from "node:timers/promises";
import type { Consumer, Producer } from "kafkajs";
import { PIPELINE_GROUP_IDS } from "../server/worker.ts";
import { AUTH_ENV } from "../test/support/credentials.ts";
import {
  createActiveTemplate,
  EVENTS_TOPIC,
  SEND_REQUEST_TOPIC,
  structuredSendRequest,
  testClickHouse,
  testKafka,
  testOrm,
} from "../test/support/pipeline.ts";
import { type ServiceProcess, startServiceProcess } from "../test/support/service-process.ts";
import { startPrivateServices } from "./private-services.ts";
import { cpuByProcess, cpuSeconds } from "./process-figures.ts";
import { chunksLine, WorkerQueues } from "./worker-queues.ts";

function setting(name: string, env: string, fallback: string): string {
  const flag = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  return flag ? flag.slice(name.length + 3) : (process.env[env] ?? fallback);
}
function count(name: string, env: string, fallback: number): number {
  const value = Number(setting(name, env, String(fallback)));
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} (${env}) must be a whole number`);
  return value;
}

const warmup = count("warmup", "BENCH_WARMUP", 20_000);
const requests = count("requests", "BENCH_REQUESTS", 50_000);
const rate = count("rate", "BENCH_RATE", 1_000);
const seconds = count("seconds", "BENCH_SECONDS", 30);
const backlog = count("backlog", "BENCH_BACKLOG", 1_000_000);
const ceiling = count("ceiling", "BENCH_CEILING", 50_000);
const timeoutMs = count("timeout", "BENCH_TIMEOUT_SECONDS", 1_800) * 1000;
const role = setting("role", "BENCH_ROLE", "worker");
const cpuProfileDir = process.env.BENCH_CPU_PROF;

// Records per producer call and calls in flight, for the pipeline's requests and the ceiling alike.
const PUBLISH_BATCH = 1_000;
const PUBLISH_IN_FLIGHT = 4;
// The consumer groups of the worker: another member there takes our records.
const WORKER_GROUPS = PIPELINE_GROUP_IDS;

const run = randomUUID().slice(0, 8);
const template = `bench_pipeline_${run}`;
const tag = (phase: string) => `pb-${run}-${phase}`;
const now = () => performance.timeOrigin + performance.now();
const progress = (line: string) => console.error(`[bench:pipeline] ${line}`);
const tempDir = mkdtempSync(join(tmpdir(), "bench-pipeline-"));
const { kafka: privateKafka, databases } = await startPrivateServices({
  tempDir,
  name: `notification_bench_${run}`,
  kafka: setting("kafka", "BENCH_KAFKA", "private") === "private",
  database: setting("database", "BENCH_DATABASE", "private") === "private",
  say: progress,
});
const kafka = testKafka(`bench-pipeline-${run}`);
const admin = kafka.admin();
const orm = testOrm();
const clickhouse = testClickHouse();
const serviceEnv: Record<string, string> = {
  ...AUTH_ENV,
  // info: the worker says when it consumes, and logs nothing per record at that level.
  LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  ...(process.env.BENCH_SINK_FILE === "1" ? { SINK_FILE: join(tempDir, "sink.jsonl") } : { SINK_FILE: "" }),
};
const createdTopics: string[] = [];
const createdGroups: string[] = [];
const consumers: Consumer[] = [];
let worker: ServiceProcess | undefined;

/** The `data` of one send request: one recipient, email, ids of this run. */
function sendRequest(phase: string, index: number): { key: string; value: Buffer } {
  const requestId = `${tag(phase)}-${index}`;
  const data = {
    requestId,
    recipients: [{ emailTo: `user${index}@example.com` }],
    templateName: template,
    languageCode: "ru-RU",
    payloadVariables: { userName: `Пользователь ${index}`, orderId: `ORD-${index}` },
    deliveryOptions: { channels: ["email"], priority: "normal" },
    correlationId: tag(phase),
  };
  return { key: requestId, value: structuredSendRequest(data) };
}

/** Publishes `total` records as fast as one producer takes them; calls `sent` as each batch is handed over. */
async function publishAll(
  producer: Producer,
  topic: string,
  total: number,
  record: (index: number) => { key: string; value: Buffer },
  label: string,
): Promise<number> {
  const started = now();
  let next = 0;
  let lastReport = started;
  const lane = async () => {
    while (next < total) {
      const from = next;
      const to = Math.min(total, from + PUBLISH_BATCH);
      next = to;
      const messages = [];
      for (let index = from; index < to; index++) messages.push(record(index));
      await producer.send({ topic, acks: -1, messages });
      if (now() - lastReport > 5_000) {
        lastReport = now();
        progress(`${label}: ${to} of ${total} published`);
      }
    }
  };
  await Promise.all(Array.from({ length: PUBLISH_IN_FLIGHT }, lane));
  return now() - started;
}

// ---- the worker process and its memory ---------------------------------------------------

interface MemorySample {
  rssMiB: number;
  hwmMiB: number;
}
function memoryOf(pid: number | undefined): MemorySample | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    return { rssMiB: kib("VmRSS") / 1024, hwmMiB: kib("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}
/** The share of the machine's CPU time that was busy since the previous call. */
function machineBusy(): () => number {
  const read = () => {
    const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { idle, total: fields.reduce((sum, each) => sum + each, 0) };
  };
  const before = read();
  return () => {
    const after = read();
    return 1 - (after.idle - before.idle) / Math.max(1, after.total - before.total);
  };
}

/** The bench's own processes, for where the CPU of a phase went (the services are named by process-figures). */
function benchProcess(pid: number): string | undefined {
  if (pid === worker?.child.pid) return "worker";
  if (pid === process.pid) return "bench";
  return undefined;
}

/** `worker 254 µs, Kafka 140 µs, …` per notification, largest first. */
function cpuPerNotification(byKind: Map<string, number>, notifications: number): string {
  return [...byKind]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, seconds]) => `${kind} ${((seconds * 1e6) / notifications).toFixed(0)} µs`)
    .join(", ");
}

/** RSS of the worker sampled every second; `phase()` starts a new range. */
class RssSampler {
  private samples: MemorySample[] = [];
  private readonly timer = setInterval(() => this.sample(), 1_000);
  sample(): void {
    const memory = memoryOf(worker?.child.pid);
    if (memory) this.samples.push(memory);
  }
  phase(): { min: number; max: number; hwm: number; samples: number; quarters: number[] } {
    this.sample();
    const rss = this.samples.map((each) => each.rssMiB);
    const quarter = (index: number) =>
      Math.max(...rss.slice(Math.floor((index * rss.length) / 4), Math.ceil(((index + 1) * rss.length) / 4)));
    const range = {
      min: Math.min(...rss),
      max: Math.max(...rss),
      hwm: Math.max(...this.samples.map((each) => each.hwmMiB)),
      samples: rss.length,
      quarters: [0, 1, 2, 3].map(quarter),
    };
    this.samples = [];
    return range;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

async function startWorker(): Promise<ServiceProcess> {
  const started = await startServiceProcess({
    role,
    env: serviceEnv,
    nodeFlags: cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`] : [],
  });
  const deadline = Date.now() + 60_000;
  while (!started.logs.some((line) => line.message === "send pipeline consuming")) {
    if (Date.now() > deadline) throw new Error(`the worker is not consuming after 60 s:\n${tail(started)}`);
    await pause(50);
  }
  return started;
}

/** The last lines the worker wrote, for a phase that did not complete. */
function tail(service: ServiceProcess | undefined): string {
  return service?.output().split("\n").slice(-30).join("\n") ?? "";
}

/** Another member in a worker group (a test's worker, npm start) shares our records: the figures are off. */
async function sharedGroups(): Promise<string[]> {
  const { groups } = await admin.describeGroups([...WORKER_GROUPS]);
  return groups.filter((group) => group.members.length > (worker ? 1 : 0)).map((group) => group.groupId);
}

// ---- what became of the requests ---------------------------------------------------------

async function sentInPostgres(phase: string): Promise<number> {
  const [row] = await orm.em
    .fork()
    .getConnection()
    .execute<{ sent: string }[]>(
      "SELECT count(*) AS sent FROM notification_message_log WHERE correlation_id = ? AND status = 'sent'",
      [tag(phase)],
    );
  return Number(row?.sent ?? 0);
}

async function sentInClickHouse(phase: string): Promise<number> {
  const result = await clickhouse.query({
    query:
      "SELECT uniqExact(message_id) AS sent FROM notification_delivery_stats WHERE status = 'sent' AND request_id LIKE {prefix:String}",
    query_params: { prefix: `${tag(phase)}-%` },
    format: "JSONEachRow",
  });
  const [row] = await result.json<{ sent: string }>();
  return Number(row?.sent ?? 0);
}

/**
 * Events an earlier run (or an interrupted one) left in the outbox go first: the phases start
 * once the worker published them, so they measure only their own requests.
 */
async function outboxEmpty(): Promise<void> {
  const waiting = async () => {
    const [row] = await orm.em
      .fork()
      .getConnection()
      .execute<{ waiting: string }[]>(
        "SELECT coalesce(sum(event_count), 0) AS waiting FROM notification_outbox",
      );
    return Number(row?.waiting ?? 0);
  };
  const before = await waiting();
  if (before === 0) return;
  progress(`the outbox holds ${before} events from before; waiting for the worker to publish them`);
  const started = now();
  await until(0, started, { left: async () => -(await waiting()) }, "outbox");
  console.log(`(${before} events left in the outbox by an earlier run were published first)`);
}

/** The `sent` status events of this run's phases, as the events topic carries them. */
class SentEvents {
  private readonly seen = new Map<string, Map<string, number>>();
  /** Per request of the latency phase: when it was handed to the producer, epoch ms. */
  readonly publishedAt = new Map<string, number>();
  readonly latencies: {
    publishedAt: number;
    seenMs: number;
    sentMs: number;
    queuedMs: number;
    acceptedMs: number;
  }[] = [];
  /** Per request of the latency phase: when the orchestrator queued it (its `queued` event's occurredAt). */
  private readonly queuedAt = new Map<string, number>();
  /** Per request of the latency phase: when the intake read it off Kafka (its events' acceptedAt). */
  private readonly acceptedAt = new Map<string, number>();

  watch(phase: string): void {
    this.seen.set(tag(phase), new Map());
  }
  count(phase: string): number {
    return this.seen.get(tag(phase))?.size ?? 0;
  }
  take(value: Buffer | null, receivedAt: number): void {
    if (!value) return;
    const text = value.toString();
    if (!text.includes(`pb-${run}-`)) return;
    // The `queued` events only of the latency phase, for its stages: parsing them all costs CPU the worker needs.
    const sent = text.includes('"status":"sent"');
    if (!sent && !(text.includes(`"${tag("lat")}-`) && text.includes('"status":"queued"'))) return;
    const { data } = JSON.parse(text) as {
      data: {
        messageId: string;
        requestId: string;
        correlationId: string;
        occurredAt: string;
        acceptedAt: string;
      };
    };
    if (!sent) {
      this.queuedAt.set(data.requestId, Date.parse(data.occurredAt));
      this.acceptedAt.set(data.requestId, Date.parse(data.acceptedAt));
      return;
    }
    const messages = this.seen.get(data.correlationId);
    if (!messages || messages.has(data.messageId)) return;
    messages.set(data.messageId, receivedAt);
    const published = this.publishedAt.get(data.requestId);
    if (published !== undefined) {
      this.latencies.push({
        publishedAt: published,
        seenMs: receivedAt - published,
        sentMs: Date.parse(data.occurredAt) - published,
        queuedMs: (this.queuedAt.get(data.requestId) ?? Number.NaN) - published,
        acceptedMs: (this.acceptedAt.get(data.requestId) ?? Number.NaN) - published,
      });
    }
  }
}

async function follow(
  topic: string,
  groupId: string,
  take: (value: Buffer | null) => void,
): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
  consumers.push(consumer);
  createdGroups.push(groupId);
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    partitionsConsumedConcurrently: 6,
    // An observer that starts at the end each run needs no offsets kept; committing them after
    // every batch (kafkajs's default) took a tenth of the broker's CPU at 1000/s.
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) take(message.value);
    },
  });
  await joined;
  return consumer;
}

/** `read` at most once every `ms`, its last value in between: a count over ClickHouse's whole table is not free. */
function every(ms: number, read: () => Promise<number>): () => Promise<number> {
  let lastAt = Number.NEGATIVE_INFINITY;
  let value = 0;
  return async () => {
    if (now() - lastAt >= ms) {
      lastAt = now();
      value = await read();
    }
    return value;
  };
}

const queues = new WorkerQueues(() => worker?.httpUrl);

/** Polls until `done` or the timeout; returns when each of the named counts reached `total`. */
async function until(
  total: number,
  started: number,
  probes: Record<string, () => Promise<number> | number>,
  label: string,
): Promise<{ reachedMs: Record<string, number>; last: Record<string, number> }> {
  const reachedMs: Record<string, number> = {};
  const last: Record<string, number> = {};
  let lastReport = now();
  let lastSample = 0;
  let waiting = "";
  while (now() - started < timeoutMs) {
    if (now() - lastSample > 2_000) {
      lastSample = now();
      waiting = await queues.sample();
    }
    for (const [name, probe] of Object.entries(probes)) {
      if (reachedMs[name] !== undefined) continue;
      last[name] = await Promise.resolve(probe()).catch(() => last[name] ?? 0);
      if ((last[name] ?? 0) >= total) reachedMs[name] = now() - started;
    }
    if (Object.keys(reachedMs).length === Object.keys(probes).length) break;
    if (now() - lastReport > 5_000) {
      lastReport = now();
      const rss = memoryOf(worker?.child.pid)?.rssMiB.toFixed(0) ?? "?";
      const counts = Object.keys(probes)
        .map((name) => `${name} ${reachedMs[name] !== undefined ? total : last[name]}`)
        .join(", ");
      progress(
        `${label} ${((now() - started) / 1000).toFixed(0)} s: ${counts} of ${total}; RSS ${rss} MiB; ${waiting}`,
      );
    }
    await pause(500);
  }
  return { reachedMs, last };
}

// ---- the phases --------------------------------------------------------------------------

const perSecond = (n: number, ms: number) => ((n * 1000) / ms).toFixed(0);
const fmt = (ms: number | undefined) => (ms === undefined ? "not reached" : `${(ms / 1000).toFixed(1)} s`);

/** Requests through the whole pipeline before anything is measured, their figures not printed. */
async function warmUp(producer: Producer, events: SentEvents): Promise<void> {
  events.watch("warm");
  const started = now();
  await publishAll(producer, SEND_REQUEST_TOPIC, warmup, (index) => sendRequest("warm", index), "warm-up");
  await until(warmup, started, { events: () => events.count("warm") }, "warm-up");
  console.log(`warm-up: ${warmup} requests through the pipeline in ${fmt(now() - started)}, not measured`);
}

async function throughput(producer: Producer, events: SentEvents, rss: RssSampler): Promise<void> {
  events.watch("tput");
  const busy = machineBusy();
  const spent = cpuByProcess(benchProcess);
  const cpuBefore = cpuSeconds(worker?.child.pid);
  const chunksBefore = await queues.chunkTotals();
  const started = now();
  const publishMs = await publishAll(
    producer,
    SEND_REQUEST_TOPIC,
    requests,
    (index) => sendRequest("tput", index),
    "throughput",
  );
  progress(`throughput: ${requests} published in ${fmt(publishMs)}`);
  const { reachedMs, last } = await until(
    requests,
    started,
    {
      postgres: () => sentInPostgres("tput"),
      events: () => events.count("tput"),
      clickhouse: every(1_000, () => sentInClickHouse("tput")),
    },
    "throughput",
  );
  const cpu = cpuSeconds(worker?.child.pid) - cpuBefore;
  const byProcess = spent();
  const chunks = chunksLine(chunksBefore, await queues.chunkTotals(), (now() - started) / 1000);
  const endMs = Math.max(...Object.values(reachedMs));
  const done = Object.keys(reachedMs).length === 3;
  const memory = rss.phase();
  console.log(`throughput, ${requests} requests (1 email recipient each), published in ${fmt(publishMs)}:`);
  console.log(
    `  sent in PostgreSQL after ${fmt(reachedMs.postgres)}, status events after ${fmt(reachedMs.events)}, ClickHouse after ${fmt(reachedMs.clickhouse)}`,
  );
  if (done) {
    console.log(`  sustained end to end: ${perSecond(requests, endMs)} notifications/s`);
  } else {
    console.log(
      `  NOT COMPLETE within ${fmt(timeoutMs)}: postgres ${last.postgres}, events ${last.events}, clickhouse ${last.clickhouse} of ${requests}`,
    );
    progress(`the worker's last lines:\n${tail(worker)}`);
  }
  console.log(`  peak queues (worker /metrics every 2 s): ${queues.peaksLine()}`);
  console.log(
    `  worker CPU ${((cpu * 1e6) / requests).toFixed(0)} µs per notification; machine ${(busy() * 100).toFixed(0)}% busy; worker RSS ${memory.min.toFixed(0)}–${memory.max.toFixed(0)} MiB`,
  );
  console.log(`  CPU per notification by process: ${cpuPerNotification(byProcess, requests)}`);
  console.log(`  chunks handed to the stages: ${chunks}`);
}

async function latency(producer: Producer, events: SentEvents, rss: RssSampler): Promise<void> {
  events.watch("lat");
  const total = rate * seconds;
  const busy = machineBusy();
  const spent = cpuByProcess(benchProcess);
  const chunksBefore = await queues.chunkTotals();
  const started = now();
  let published = 0;
  let sampledAt = started;
  queues.peaksLine();
  while (published < total) {
    if (now() - sampledAt > 2_000) {
      sampledAt = now();
      void queues.sample();
    }
    const due = Math.min(total, Math.floor(((now() - started) * rate) / 1000));
    if (due > published) {
      const messages = [];
      const at = now();
      for (let index = published; index < due; index++) {
        const record = sendRequest("lat", index);
        events.publishedAt.set(record.key, at);
        messages.push(record);
      }
      published = due;
      await producer.send({ topic: SEND_REQUEST_TOPIC, acks: -1, messages });
    }
    await pause(2);
  }
  const offeredMs = now() - started;
  progress(`latency: ${total} published at ${perSecond(total, offeredMs)}/s; waiting for their events`);
  await until(total, now(), { events: () => events.count("lat") }, "latency");
  const byProcess = spent();
  const machine = busy();
  const chunks = chunksLine(chunksBefore, await queues.chunkTotals(), (now() - started) / 1000);
  const memory = rss.phase();
  const sorted = (of: (each: (typeof events.latencies)[number]) => number) =>
    events.latencies
      .map(of)
      .filter((value) => !Number.isNaN(value))
      .sort((a, b) => a - b);
  const seen = sorted((each) => each.seenMs);
  const sent = sorted((each) => each.sentMs);
  const pct = (sorted: number[], p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  const line = (sorted: number[]) =>
    [50, 95, 99].map((p) => `p${p} ${pct(sorted, p).toFixed(0)} ms`).join(", ") +
    `, max ${(sorted.at(-1) ?? Number.NaN).toFixed(0)} ms`;
  console.log(`latency at ${rate}/s offered for ${seconds} s (${seen.length} of ${total} seen sent):`);
  console.log(`  publish → sent status event received: ${line(seen)}`);
  console.log(`  publish → sent (the event's occurredAt): ${line(sent)}`);
  // Where the time goes, by the events' own clocks (one machine: no skew).
  console.log(
    `  stages: publish → read by the intake (producer, broker, fetch): ${line(sorted((each) => each.acceptedMs))}`,
  );
  console.log(
    `          read → queued (decoding, the orchestrator up to its transaction): ${line(sorted((each) => each.queuedMs - each.acceptedMs))}`,
  );
  console.log(
    `          queued → sent (commit, outbox relay, dispatch topic, dispatcher): ${line(sorted((each) => each.sentMs - each.queuedMs))}`,
  );
  console.log(
    `          sent → event received (status write, outbox relay, events topic): ${line(sorted((each) => each.seenMs - each.sentMs))}`,
  );
  console.log(
    `  publish → sent p99 by ${WINDOW_MS / 1000} s of publishing: ${windowedP99(events.latencies, started, pct)}`,
  );
  console.log(`  peak queues (worker /metrics every 2 s): ${queues.peaksLine()}`);
  console.log(
    `  worker RSS ${memory.min.toFixed(0)}–${memory.max.toFixed(0)} MiB; machine ${(machine * 100).toFixed(0)}% busy`,
  );
  // At a fixed rate batches are small: what each notification costs here, beside the throughput phase's.
  console.log(`  CPU per notification by process: ${cpuPerNotification(byProcess, total)}`);
  console.log(`  chunks handed to the stages: ${chunks}`);
}

// A tail that is one stall (a pause of the worker or the broker) shows in one window; one spread over all of them is the pipeline's own.
const WINDOW_MS = 5_000;

function windowedP99(
  latencies: readonly { publishedAt: number; sentMs: number }[],
  started: number,
  pct: (sorted: number[], p: number) => number,
): string {
  const windows: number[][] = [];
  for (const { publishedAt, sentMs } of latencies) {
    const at = Math.max(0, Math.floor((publishedAt - started) / WINDOW_MS));
    const window = windows[at] ?? [];
    window.push(sentMs);
    windows[at] = window;
  }
  const figures = Array.from(windows, (window) =>
    window
      ? pct(
          window.sort((a, b) => a - b),
          99,
        ).toFixed(0)
      : "-",
  );
  return `${figures.join(", ")} ms`;
}

async function drain(producer: Producer, rss: RssSampler): Promise<void> {
  progress(`backlog: stopping the worker, publishing ${backlog} requests`);
  await worker?.stop();
  worker = undefined;
  rss.phase();
  const publishMs = await publishAll(
    producer,
    SEND_REQUEST_TOPIC,
    backlog,
    (index) => sendRequest("backlog", index),
    "backlog",
  );
  progress(`backlog: published in ${fmt(publishMs)}; starting the worker`);
  const started = now();
  worker = await startWorker();
  const consumingMs = now() - started;
  const cpuBefore = cpuSeconds(worker.child.pid);
  const { reachedMs, last } = await until(
    backlog,
    started,
    {
      postgres: every(1_000, () => sentInPostgres("backlog")),
      clickhouse: every(5_000, () => sentInClickHouse("backlog")),
    },
    "backlog",
  );
  const cpu = cpuSeconds(worker.child.pid) - cpuBefore;
  const memory = rss.phase();
  const drained = reachedMs.postgres !== undefined ? backlog : (last.postgres ?? 0);
  const complete = reachedMs.postgres !== undefined && reachedMs.clickhouse !== undefined;
  const drainMs = complete ? Math.max(reachedMs.postgres ?? 0, reachedMs.clickhouse ?? 0) : now() - started;
  console.log(`backlog of ${backlog} requests published in ${fmt(publishMs)} with the worker stopped:`);
  console.log(
    complete
      ? `  drained ${fmt(drainMs)} after the worker's start (consuming after ${fmt(consumingMs)}; all sent in PostgreSQL after ${fmt(reachedMs.postgres)}, in ClickHouse after ${fmt(reachedMs.clickhouse)}): ${perSecond(backlog, drainMs - consumingMs)} notifications/s`
      : `  NOT DRAINED within ${fmt(timeoutMs)}: ${drained} sent in PostgreSQL, ${last.clickhouse ?? 0} in ClickHouse; ${perSecond(drained, drainMs)} notifications/s`,
  );
  console.log(
    `  worker RSS while draining: min ${memory.min.toFixed(0)} MiB, max ${memory.max.toFixed(0)} MiB (VmHWM ${memory.hwm.toFixed(0)} MiB, ${memory.samples} samples); by quarter of the drain (max): ${memory.quarters.map((each) => each.toFixed(0)).join(", ")} MiB`,
  );
  console.log(`  worker CPU ${((cpu * 1e6) / Math.max(1, drained)).toFixed(0)} µs per notification`);
  console.log(`  peak queues (worker /metrics every 2 s): ${queues.peaksLine()}`);
  if (!complete) await skipRest();
}

/** A backlog left undrained would be read by the next worker: the intake group moves past it. */
async function skipRest(): Promise<void> {
  await worker?.stop();
  worker = undefined;
  try {
    await admin.resetOffsets({
      groupId: WORKER_GROUPS[0] as string,
      topic: SEND_REQUEST_TOPIC,
      earliest: false,
    });
    progress("backlog: the rest skipped (the intake group's offsets moved to the end of the topic)");
  } catch (error) {
    progress(`backlog: could not skip the rest, the next worker will send it: ${(error as Error).message}`);
  }
}

async function kafkaCeiling(producer: Producer): Promise<void> {
  const topic = `bench-pipeline-ceiling-${run}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
  createdTopics.push(topic);
  const groupId = `bench-pipeline-ceiling-${run}`;
  let consumed = 0;
  let lastAt = 0;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });
  consumers.push(consumer);
  createdGroups.push(groupId);
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch }) => {
      consumed += batch.messages.length;
      lastAt = now();
    },
  });
  await joined;
  const started = now();
  const produceMs = await publishAll(
    producer,
    topic,
    ceiling,
    (index) => sendRequest("ceiling", index),
    "ceiling",
  );
  await until(ceiling, started, { consumed: () => consumed }, "ceiling");
  const endToEndMs = lastAt - started;
  const size = sendRequest("ceiling", 0).value.byteLength;
  console.log(`kafkajs ceiling, ${ceiling} records of ~${size} bytes, 6 partitions, acks -1:`);
  console.log(
    `  produced ${perSecond(ceiling, produceMs)}/s (batches of ${PUBLISH_BATCH}, ${PUBLISH_IN_FLIGHT} in flight); produce → consume (eachBatch) ${consumed >= ceiling ? perSecond(ceiling, endToEndMs) : "incomplete"}/s`,
  );
}

/** Another member in a worker group takes part of our records (or we take its): refuse by default. */
async function checkAlone(): Promise<void> {
  const busy = await sharedGroups();
  if (busy.length === 0) return;
  const message = `other processes are in the worker's consumer groups (${busy.join(", ")}): a test or npm start is running`;
  if (process.env.BENCH_ALLOW_SHARED !== "1")
    throw new Error(`${message}; stop it, or set BENCH_ALLOW_SHARED=1`);
  progress(`WARNING: ${message}; the figures will be wrong`);
}

async function main(): Promise<void> {
  await admin.connect();
  await checkAlone();
  const tuning = Object.entries(process.env)
    .filter(([name]) => /^(PIPELINE|OUTBOX|STATS|SINK|DISPATCH|DATABASE_POOL|KAFKA_TOPIC)_/.test(name))
    .map(([name, value]) => `${name}=${value}`);
  console.log(
    `send pipeline bench, run ${run}: role ${role}, ${tuning.length > 0 ? tuning.join(" ") : "default settings"}, ${databases ? "a new database" : "the shared database"}`,
  );
  progress("creating the template through an api process");
  const api = await startServiceProcess({ role: "api", env: serviceEnv, nodeFlags: [] });
  try {
    await createActiveTemplate(api.httpUrl, template, [
      {
        language_code: "ru",
        subject: "Заказ {{orderId}} оформлен",
        body: "{{userName}}, ваш заказ {{orderId}} оформлен",
        body_html: "<p>{{userName}}, ваш заказ <b>{{orderId}}</b> оформлен</p>",
      },
    ]);
  } finally {
    await api.stop();
  }
  progress(`starting the ${role} process`);
  worker = await startWorker();
  await outboxEmpty();
  const rss = new RssSampler();
  const producer = kafka.producer();
  await producer.connect();
  const events = new SentEvents();
  const eventsConsumer = await follow(EVENTS_TOPIC, `bench-pipeline-events-${run}`, (value) =>
    events.take(value, now()),
  );
  try {
    if (warmup > 0) await warmUp(producer, events);
    rss.phase();
    if (requests > 0) await throughput(producer, events, rss);
    if (rate > 0 && seconds > 0) await latency(producer, events, rss);
    if (requests > 0 || (rate > 0 && seconds > 0)) {
      console.log(
        `worker peak RSS (VmHWM) over throughput and latency: ${memoryOf(worker.child.pid)?.hwmMiB.toFixed(0)} MiB`,
      );
    }
    await eventsConsumer.disconnect();
    if (backlog > 0) await drain(producer, rss);
    await worker?.stop();
    worker = undefined;
    if (ceiling > 0) await kafkaCeiling(producer);
  } finally {
    rss.stop();
    await producer.disconnect();
  }
}

let cleaned: Promise<void> | undefined;
/** Stops what the bench started and deletes what it created; once, whether it ended or was interrupted. */
function cleanUp(): Promise<void> {
  cleaned ??= (async () => {
    await worker?.stop();
    await Promise.allSettled(consumers.map((consumer) => consumer.disconnect()));
    if (!privateKafka) {
      if (createdTopics.length > 0)
        await admin.deleteTopics({ topics: createdTopics }).catch(() => undefined);
      if (createdGroups.length > 0) await admin.deleteGroups(createdGroups).catch(() => undefined);
    }
    await admin.disconnect();
    await orm.close(true);
    await clickhouse.close();
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
} finally {
  await cleanUp();
}
