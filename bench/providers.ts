// Delivery providers against their local peers, each peer in a process of its own:
//   1. email throughput: SmtpEmailProvider → the SMTP peer (STARTTLS, login), with a pool of one
//      connection and of BENCH_SMTP_POOL, BENCH_SENDS sends each, BENCH_CONCURRENCY at once;
//   2. push throughput: FcmProvider (firebase-admin, routed to the FCM peer, OAuth included) and
//      ApnsProvider (@parse/node-apn, HTTP/2) → their peers, the same way;
//   3. failover: the built service sending BENCH_RATE emails/s for BENCH_SECONDS through a primary
//      and a secondary SMTP peer; a third of the way in the primary's process is killed
//      (SIGKILL), and later, with a new primary, stopped (SIGSTOP: a server that hangs). Printed:
//      the time from the fault to the first message on the secondary and until the secondary
//      carries the offered rate, the latency of sends around it, and messages lost or sent twice.
// `npm run bench:providers` (builds and migrates first); BENCH_PHASES=email,push,kill,hang picks
// phases. Every other variable reaches the service as it is (PIPELINE_*, DISPATCH_*, …). Progress
// to stderr, figures to stdout.

import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as pause } from "node:timers/promises";
import type { DeliveryOutcome, OutgoingMessage, Provider } from "../core/sending/index.ts";
import { ApnsProvider, FcmProvider, routedHttpsAgent, SmtpEmailProvider } from "../dispatch/index.ts";
import { AUTH_ENV, authHeaders } from "../test/support/credentials.ts";
import { createActiveTemplate, messagesOf, testOrm } from "../test/support/pipeline.ts";
import { smtpSlotEnv } from "../test/support/provider-peers.ts";
import { startServiceProcess } from "../test/support/service-process.ts";
import { REPO_ROOT } from "../test/support/services.ts";

const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SENDS = setting("BENCH_SENDS", 5_000);
const CONCURRENCY = setting("BENCH_CONCURRENCY", 50);
const SMTP_POOL = setting("BENCH_SMTP_POOL", 5);
const RATE = setting("BENCH_RATE", 100);
const SECONDS = setting("BENCH_SECONDS", 30);
const PHASES = (process.env.BENCH_PHASES ?? "email,push,kill,hang").split(",");
const progress = (text: string) => process.stderr.write(`[bench:providers] ${text}\n`);
const dir = mkdtempSync(join(tmpdir(), "bench-providers-"));

interface Peer {
  child: ChildProcess;
  info: Record<string, string | number>;
  /** Our message ids as the peer received them, with when. */
  received: { id: string; at: number }[];
}

function startPeer(kind: "smtp" | "fcm" | "apns"): Promise<Peer> {
  const child = spawn(process.execPath, ["bench/peer-process.ts", kind], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const peer: Peer = { child, info: {}, received: [] };
  return new Promise((resolve, reject) => {
    let partial = "";
    child.once("exit", (code) => reject(new Error(`the ${kind} peer exited with ${code}`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const parsed = JSON.parse(line) as Record<string, string | number>;
        if ("received" in parsed) peer.received.push({ id: String(parsed.received), at: Number(parsed.at) });
        else {
          peer.info = parsed;
          resolve(peer);
        }
      }
    });
  });
}

function stopPeer(peer: Peer): void {
  if (peer.child.exitCode === null) peer.child.kill("SIGKILL");
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function latencyLine(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${(sorted.at(-1) ?? Number.NaN).toFixed(1)} ms`;
}

/** `SENDS` sends through `provider`, CONCURRENCY at a time: rate, latency, and what did not go. */
async function throughput(label: string, provider: Provider, message: (index: number) => OutgoingMessage) {
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < SENDS) {
        const index = next++;
        const at = performance.now();
        const outcome: DeliveryOutcome = await provider.send(message(index));
        latencies.push(performance.now() - at);
        if (outcome.status !== "sent") {
          const reason = outcome.reason.slice(0, 80);
          failures.set(reason, (failures.get(reason) ?? 0) + 1);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${label}: ${SENDS} sends in ${seconds.toFixed(1)} s = ${(SENDS / seconds).toFixed(0)}/s, ${CONCURRENCY} at once; ${latencyLine(latencies)}` +
      (failures.size > 0 ? `; not sent: ${JSON.stringify(Object.fromEntries(failures))}` : ""),
  );
}

const email = (index: number): OutgoingMessage => ({
  messageId: randomUUID(),
  destination: { channel: "email", email: `reader-${index}@example.ru` },
  subject: "Заказ оформлен",
  body: "Ваш заказ A-17 оформлен и будет доставлен завтра.",
  bodyHtml: "<p>Ваш заказ <b>A-17</b> оформлен и будет доставлен завтра.</p>",
  priority: "normal",
});

async function emailThroughput(): Promise<void> {
  const peer = await startPeer("smtp");
  for (const pool of [1, SMTP_POOL]) {
    const provider = new SmtpEmailProvider({
      name: `smtp-pool-${pool}`,
      host: "127.0.0.1",
      port: Number(peer.info.port),
      security: "starttls",
      tls: { ca: String(peer.info.ca), servername: "localhost" },
      auth: { user: "bench", password: "bench" },
      from: { address: "noreply@bench.example.ru" },
      maxConnections: pool,
      maxMessages: 1_000_000,
    });
    progress(`email through a pool of ${pool}`);
    await throughput(`email, SMTP pool of ${pool} connection(s)`, provider, email);
    await provider.close();
  }
  stopPeer(peer);
}

async function pushThroughput(): Promise<void> {
  const fcmPeer = await startPeer("fcm");
  const agent = routedHttpsAgent({
    host: "127.0.0.1",
    port: Number(fcmPeer.info.port),
    ca: String(fcmPeer.info.ca),
  });
  const fcm = new FcmProvider({
    name: "fcm",
    projectId: String(fcmPeer.info.projectId),
    clientEmail: String(fcmPeer.info.clientEmail),
    privateKey: String(fcmPeer.info.privateKey),
    httpAgent: agent,
  });
  const push =
    (channel: "push_fcm" | "push_apns") =>
    (index: number): OutgoingMessage => ({
      messageId: randomUUID(),
      destination: {
        channel,
        deviceToken:
          channel === "push_fcm"
            ? `bench-token-${index}:${"A".repeat(140)}`
            : index.toString(16).padStart(64, "0"),
      },
      subject: "Заказ в пути",
      body: "Курьер будет через час",
      bodyHtml: "",
      priority: "high",
      expiresAt: new Date(Date.now() + 3_600_000),
      push: { data: { orderId: "A-17" }, badge: 1, collapseKey: "order-A-17" },
    });
  progress("FCM");
  await throughput("push, FCM (firebase-admin over HTTP/1.1 keep-alive)", fcm, push("push_fcm"));
  await fcm.close();
  agent.destroy();
  stopPeer(fcmPeer);

  const apnsPeer = await startPeer("apns");
  const apns = new ApnsProvider({
    name: "apns",
    key: String(apnsPeer.info.key),
    keyId: String(apnsPeer.info.keyId),
    teamId: String(apnsPeer.info.teamId),
    topic: String(apnsPeer.info.topic),
    production: false,
    address: "127.0.0.1",
    port: Number(apnsPeer.info.port),
    ca: String(apnsPeer.info.ca),
  });
  progress("APNs");
  await throughput("push, APNs (@parse/node-apn over HTTP/2)", apns, push("push_apns"));
  await apns.close();
  stopPeer(apnsPeer);
}

function smtpEnv(slot: string, peer: Peer): Record<string, string> {
  return smtpSlotEnv({
    slot,
    host: "127.0.0.1",
    port: Number(peer.info.port),
    ca: String(peer.info.ca),
    user: "bench",
    password: "bench",
    from: "noreply@bench.example.ru",
    timeoutMs: 2_000,
    dir,
  });
}

/** Steady sends through the service while the primary dies (`SIGKILL`) or hangs (`SIGSTOP`). */
async function failover(fault: "SIGKILL" | "SIGSTOP"): Promise<void> {
  const [primary, secondary] = await Promise.all([startPeer("smtp"), startPeer("smtp")]);
  const template = `bench_failover_${randomUUID().slice(0, 8)}`;
  const service = await startServiceProcess({
    nodeFlags: [],
    env: {
      ...AUTH_ENV,
      LOG_LEVEL: "warn",
      SINK_CHANNELS: "in_app",
      EMAIL_PROVIDERS: "primary,secondary",
      ...smtpEnv("primary", primary),
      ...smtpEnv("secondary", secondary),
      DISPATCH_RETRY_INITIAL_MS: "500",
      DISPATCH_RETRY_MAX_MS: "2000",
      OUTBOX_IDLE_MS: "20",
    },
  });
  const orm = testOrm();
  try {
    await createActiveTemplate(service.httpUrl, template, [
      {
        language_code: "ru",
        subject: "Заказ {{n}}",
        body: "Заказ {{n}} оформлен",
        body_html: "<p>Заказ {{n}}</p>",
      },
    ]);
    // The consumer groups join after the service answers: a first send that went through says they did.
    const sendOne = async (requestId: string, index: number) => {
      const response = await fetch(`${service.httpUrl}/api/v1/notifications/send/direct`, {
        method: "POST",
        headers: { ...authHeaders("bench", ["service"]), "content-type": "application/json" },
        body: JSON.stringify({
          requestId,
          templateName: template,
          recipients: [{ emailTo: `reader-${index}@example.ru` }],
          payloadVariables: { n: String(index) },
          deliveryOptions: { channels: ["email"] },
        }),
      });
      return ((await response.json()) as { messages?: { message_id: string }[] }).messages?.[0]?.message_id;
    };
    const warmUp = `bench-warmup-${randomUUID()}`;
    await sendOne(warmUp, -1);
    while ((await messagesOf(orm, warmUp))[0]?.status !== "sent") await pause(100);
    const sentAt = new Map<string, number>();
    const requests: string[] = [];
    const total = RATE * SECONDS;
    const faultAt = Math.floor(total / 3);
    let faultTime = 0;
    const started = Date.now();
    progress(`failover (${fault}): ${total} emails at ${RATE}/s, the primary's fault at #${faultAt}`);
    await Promise.all(
      Array.from({ length: total }, async (_, index) => {
        await pause(started + (index * 1000) / RATE - Date.now());
        if (index === faultAt) {
          faultTime = Date.now();
          primary.child.kill(fault);
        }
        const requestId = `bench-${randomUUID()}`;
        requests.push(requestId);
        const id = await sendOne(requestId, index);
        if (id) sentAt.set(id, Date.now());
      }),
    );
    // A hanging server that comes back tells what it took before it hung.
    if (fault === "SIGSTOP") primary.child.kill("SIGCONT");
    progress("waiting for every message to end");
    const deadline = Date.now() + 60_000;
    const unsettled = async () => {
      let waiting = 0;
      for (const requestId of requests) {
        const [message] = await messagesOf(orm, requestId);
        if (message?.status !== "sent" && message?.status !== "failed") waiting++;
      }
      return waiting;
    };
    while ((await unsettled()) > 0 && Date.now() < deadline) await pause(500);
    const statuses = new Map<string, number>();
    for (const requestId of requests) {
      const status = (await messagesOf(orm, requestId))[0]?.status ?? "missing";
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    const seen = new Map<string, number>();
    for (const { id } of [...primary.received, ...secondary.received]) seen.set(id, (seen.get(id) ?? 0) + 1);
    const ours = [...sentAt.keys()];
    const lost = ours.filter((id) => !seen.has(id)).length;
    const twice = ours.filter((id) => (seen.get(id) ?? 0) > 1).length;
    const firstOnSecondary = secondary.received.find((each) => each.at >= faultTime)?.at ?? Number.NaN;
    // The first second after the fault in which the secondary carried 90% of the offered rate.
    let recoveredAt = Number.NaN;
    for (let second = faultTime; second < faultTime + 60_000; second += 100) {
      const inWindow = secondary.received.filter(
        (each) => each.at >= second && each.at < second + 1000,
      ).length;
      if (inWindow >= RATE * 0.9) {
        recoveredAt = second;
        break;
      }
    }
    const latency = (from: number, to: number) =>
      [...primary.received, ...secondary.received]
        .filter((each) => (sentAt.get(each.id) ?? 0) >= from && (sentAt.get(each.id) ?? 0) < to)
        .map((each) => each.at - (sentAt.get(each.id) ?? each.at));
    console.log(
      `failover, primary ${fault === "SIGKILL" ? "killed (SIGKILL)" : "hanging (SIGSTOP)"} under ${RATE} emails/s: ` +
        `first on the secondary ${(firstOnSecondary - faultTime).toFixed(0)} ms after the fault, ` +
        `${RATE * 0.9}/s carried by it from ${(recoveredAt - faultTime).toFixed(0)} ms; ` +
        `statuses ${JSON.stringify(Object.fromEntries(statuses))}; lost ${lost}, received twice ${twice} of ${ours.length}`,
    );
    console.log(`  accepted → received before the fault: ${latencyLine(latency(0, faultTime))}`);
    console.log(
      `  accepted → received in the 5 s after: ${latencyLine(latency(faultTime, faultTime + 5_000))}`,
    );
    console.log(
      `  accepted → received later: ${latencyLine(latency(faultTime + 5_000, Number.POSITIVE_INFINITY))}`,
    );
  } finally {
    await orm.close(true);
    await service.stop();
    stopPeer(primary);
    stopPeer(secondary);
  }
}

if (PHASES.includes("email")) await emailThroughput();
if (PHASES.includes("push")) await pushThroughput();
if (PHASES.includes("kill")) await failover("SIGKILL");
if (PHASES.includes("hang")) await failover("SIGSTOP");
