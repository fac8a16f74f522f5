// The in-app WebSocket gateway under load: the built service's gateway role as a process of its
// own, its clients in a few child processes (bench/gateway-clients.ts), its messages dispatched
// from this process through the InAppProvider (stored in PostgreSQL, published on Redis), as the
// worker dispatches them. Phases, picked by BENCH_PHASES (default idle,latency,storm,bare):
//   idle     BENCH_IDLE authenticated idle sockets, one per user, held by ONE gateway process: how
//            many it reached, the time to open them, its RSS and heap before and after, per socket
//   latency  BENCH_RATE messages/s (500) for BENCH_SECONDS (30) to random users among the first
//            BENCH_LATENCY_USERS (1,000) sockets: dispatch (just before InAppProvider.send) → the
//            client's receipt, p50/p95/p99/max, and messages lost
//   storm    BENCH_STORM (10,000) users who each saw a message are cut off at once; each misses
//            BENCH_STORM_MISSED (5) messages stored meanwhile; all reconnect at once (or at random
//            within BENCH_STORM_SPREAD_MS) with `since`: the time until every client has all it
//            missed and CaughtUp, gaps and duplicates, and the handshakes the kernel dropped meanwhile
//   bare     the same phases (those picked, or all three) against a bare `ws` server in its own
//            process (bench/bare-ws-server.ts): the ceiling of this machine, beside the gateway
// The idle count defaults to what one process may hold here: the hard limit of open files
// (RLIMIT_NOFILE, printed), less a thousand for the process's own, at most the issue's 50,000.
// The clients go over BENCH_CLIENT_PROCESSES processes (5,000 each by default) and
// BENCH_SOURCE_ADDRESSES source addresses (8: 127.0.0.2, …; each has ~28,000 ephemeral ports).
// Also: BENCH_OPEN_IN_FLIGHT (50 sockets opening at once per client process), BENCH_DISPATCH_CONCURRENCY
// (32 stores at once outside the latency phase), BENCH_STALL_SECONDS (30: a wait with no progress
// for this long ends the phase), BENCH_CPU_PROF=DIR (the gateway writes a CPU profile there).
// Every GATEWAY_* variable reaches the gateway as it is. `npm run bench:gateway` (builds and
// migrates first). Progress to stderr, figures to stdout, CPU by process with each phase: the
// clients share the machine's cores with the servers, so the figures are indicative.
import { randomUUID } from "node:crypto";
import { setTimeout as pause } from "node:timers/promises";
import { bearerToken } from "../test/support/credentials.ts";
import { type BenchUser, ClientFleet } from "./gateway-fleet.ts";
import { deleteInboxes, startBare, startGateway, type Target } from "./gateway-targets.ts";
import {
  cpuByProcess,
  cpuSeconds,
  cpuSecondsLine,
  listenDrops,
  openFilesLimit,
  rssBytes,
} from "./process-figures.ts";

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);
  return value;
}

const TARGET_CONNECTIONS = 50_000;
const limit = openFilesLimit();
// A process keeps files of its own open besides its sockets: its pools, stdio, epoll.
const machineMost = Math.max(0, Math.floor((limit.hard - 1_000) / 1_000) * 1_000);
const IDLE = setting("BENCH_IDLE", Math.min(TARGET_CONNECTIONS, machineMost));
const LATENCY_USERS = setting("BENCH_LATENCY_USERS", 1_000);
const RATE = setting("BENCH_RATE", 500);
// Longer than the default heartbeat (25 s): every run's window holds a round of pings to all sockets.
const SECONDS = setting("BENCH_SECONDS", 30);
const STORM = setting("BENCH_STORM", 10_000);
const MISSED = setting("BENCH_STORM_MISSED", 5);
const STORM_SPREAD_MS = setting("BENCH_STORM_SPREAD_MS", 0);
const when = STORM_SPREAD_MS === 0 ? "at once" : `within ${STORM_SPREAD_MS} ms`;
const PHASES = (process.env.BENCH_PHASES ?? "idle,latency,storm,bare").split(",");
const GATEWAY_PHASES = ["idle", "latency", "storm"].filter((phase) => PHASES.includes(phase));
const BARE_PHASES = PHASES.includes("bare")
  ? GATEWAY_PHASES.length > 0
    ? GATEWAY_PHASES
    : ["idle", "latency", "storm"]
  : [];
const USERS = Math.max(
  ...[...GATEWAY_PHASES, ...BARE_PHASES].map(
    (phase) => ({ idle: IDLE, latency: LATENCY_USERS, storm: STORM })[phase] ?? 0,
  ),
);
const PROCESSES = setting("BENCH_CLIENT_PROCESSES", Math.max(1, Math.ceil(USERS / 5_000)));
const ADDRESSES = Array.from(
  { length: setting("BENCH_SOURCE_ADDRESSES", 8) },
  (_, index) => `127.0.0.${index + 2}`,
);
const IN_FLIGHT = setting("BENCH_OPEN_IN_FLIGHT", 50);
const DISPATCH_CONCURRENCY = setting("BENCH_DISPATCH_CONCURRENCY", 32);
const STALL_MS = setting("BENCH_STALL_SECONDS", 30) * 1000;
const HEARTBEAT_MS = setting("GATEWAY_HEARTBEAT_MS", 25_000);
// After the sockets are open, before memory is read: what the opening allocated may be collected.
const SETTLE_MS = 5_000;

const now = () => performance.timeOrigin + performance.now();
const progress = (line: string) => process.stderr.write(`[bench:gateway] ${line}\n`);
const MiB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const KiB = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
function spread(values: number[]): string {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return (
    [50, 95, 99].map((p) => `p${p} ${percentile(sorted, p).toFixed(1)}`).join(", ") +
    `, max ${(sorted.at(-1) ?? Number.NaN).toFixed(1)} ms`
  );
}

/** The figures of the final table: a row per figure, a column per target. */
const table = new Map<string, Map<string, string>>();
function record(row: string, target: Target, figure: string): void {
  const cells = table.get(row) ?? new Map<string, string>();
  cells.set(target.name, figure);
  table.set(row, cells);
}

/** One target with its clients: users [0, opened) were asked to connect. */
interface Run {
  target: Target;
  fleet: ClientFleet;
  users: BenchUser[];
  opened: number;
}

/**
 * Waits for `done`, saying how it goes every 5 s; false when `progressed` stood still for
 * STALL_MS (what was reached is then the figure). Throws when a client process died.
 */
async function until(
  run: Run,
  done: () => boolean | Promise<boolean>,
  progressed: () => number,
  status: () => string,
): Promise<boolean> {
  let last = progressed();
  let changedAt = now();
  let reportedAt = now();
  while (!(await done())) {
    run.fleet.check();
    if (progressed() !== last) {
      last = progressed();
      changedAt = now();
    } else if (now() - changedAt > STALL_MS) {
      progress(`no progress for ${seconds(STALL_MS)}: ${status()}`);
      return false;
    }
    if (now() - reportedAt > 5_000) {
      reportedAt = now();
      progress(status());
    }
    await pause(20);
  }
  return true;
}

/** CPU seconds by process from now on: the target, its clients, this process, PostgreSQL, Redis. */
function cpuOfMachine(run: Run): () => string {
  const clients = new Set(run.fleet.pids);
  const spent = cpuByProcess((pid) => {
    if (pid === run.target.pid) return run.target.name;
    if (clients.has(pid)) return "clients";
    if (pid === process.pid) return "bench";
    return undefined;
  });
  return () => cpuSecondsLine(spent());
}

function failuresSince(run: Run, before: Map<string, number>): string {
  const since = [...run.fleet.failures]
    .map(([reason, count]) => [reason, count - (before.get(reason) ?? 0)] as const)
    .filter(([, count]) => count > 0);
  return since.length === 0 ? "none" : since.map(([reason, count]) => `${reason} ×${count}`).join(", ");
}

/** Opens sockets for the users up to `count`, unless an earlier phase did. */
async function ensureOpen(run: Run, count: number): Promise<void> {
  if (run.opened < count) {
    progress(`${run.target.name}: opening ${count - run.opened} sockets`);
    run.fleet.connect(run.target.url, run.users.slice(run.opened, count), {
      inFlight: IN_FLIGHT,
      resume: false,
    });
    run.opened = count;
  }
  const reached = await until(
    run,
    () => run.fleet.connected >= count,
    () => run.fleet.connected,
    () => `${run.target.name}: ${run.fleet.connected} of ${count} open`,
  );
  if (!reached) throw new Error(`only ${run.fleet.connected} of ${count} sockets opened`);
}

/** Each user's next `times` messages, DISPATCH_CONCURRENCY at once, a round over all users at a time. */
async function dispatchEach(run: Run, users: readonly BenchUser[], times: number, label: string) {
  const total = users.length * times;
  let next = 0;
  let notSent = 0;
  let reportedAt = now();
  const started = now();
  await Promise.all(
    Array.from({ length: DISPATCH_CONCURRENCY }, async () => {
      while (next < total) {
        const user = users[next++ % users.length] as BenchUser;
        if (!(await run.target.dispatch(user.id, randomUUID()))) notSent++;
        if (now() - reportedAt > 5_000) {
          reportedAt = now();
          progress(`${run.target.name}: ${label}: ${next} of ${total} dispatched`);
        }
      }
    }),
  );
  await run.target.settle();
  if (notSent > 0) throw new Error(`${notSent} of ${total} messages could not be dispatched`);
  return now() - started;
}

async function idle(run: Run): Promise<void> {
  const { target, fleet } = run;
  const rssBefore = rssBytes(target.pid);
  const heapBefore = await target.heapUsedBytes();
  const cpuBefore = cpuSeconds(target.pid);
  const machine = cpuOfMachine(run);
  const failures = new Map(fleet.failures);
  const drops = listenDrops();
  const started = now();
  progress(`${target.name}: idle: opening ${IDLE} sockets over ${PROCESSES} client processes`);
  fleet.connect(target.url, run.users.slice(0, IDLE), { inFlight: IN_FLIGHT, resume: false });
  run.opened = IDLE;
  await until(
    run,
    () => fleet.connected >= IDLE,
    () => fleet.connected,
    () =>
      `${target.name}: idle: ${fleet.connected} of ${IDLE} open, RSS ${MiB(rssBytes(target.pid))}, failed attempts: ${failuresSince(run, failures)}`,
  );
  const reached = fleet.connected;
  const openMs =
    Math.max(...run.users.slice(0, IDLE).map((user) => user.caughtUpAt ?? Number.NEGATIVE_INFINITY)) -
    started;
  const cpu = cpuSeconds(target.pid) - cpuBefore;
  const machineCpu = machine();
  const dropped = listenDrops() - drops;
  await pause(SETTLE_MS);
  const rssAfter = rssBytes(target.pid);
  const heapAfter = await target.heapUsedBytes();
  const held = await target.connections();
  const perSocket = (before: number, after: number) =>
    reached > 0 ? KiB((after - before) / reached) : "n/a";
  console.log(
    `${target.name}, idle: ${reached} of ${IDLE} sockets open (the process counts ${held}) in ${seconds(openMs)} = ${((reached * 1000) / openMs).toFixed(0)}/s, ${IN_FLIGHT * PROCESSES} opening at once; failed attempts (opened again): ${failuresSince(run, failures)}; handshakes dropped at a full accept queue (machine-wide): ${dropped}`,
  );
  console.log(
    `  RSS ${MiB(rssBefore)} → ${MiB(rssAfter)}: ${perSocket(rssBefore, rssAfter)} per socket; heap used ${MiB(heapBefore)} → ${MiB(heapAfter)}: ${perSocket(heapBefore, heapAfter)} per socket (${seconds(SETTLE_MS)} after the last opened, not collected on purpose)`,
  );
  console.log(`  CPU while opening: ${machineCpu}`);
  record("idle: sockets open (one process)", target, `${reached} of ${IDLE}`);
  record("idle: time to open", target, `${seconds(openMs)} (${((reached * 1000) / openMs).toFixed(0)}/s)`);
  record("idle: RSS before → after", target, `${MiB(rssBefore)} → ${MiB(rssAfter)}`);
  record("idle: RSS per socket", target, perSocket(rssBefore, rssAfter));
  record("idle: heap used per socket", target, perSocket(heapBefore, heapAfter));
  record(
    "idle: CPU to open",
    target,
    `${cpu.toFixed(1)} s (${((cpu * 1e3) / Math.max(1, reached)).toFixed(2)} ms per socket)`,
  );
}

async function latency(run: Run): Promise<void> {
  const { target, fleet } = run;
  await ensureOpen(run, LATENCY_USERS);
  const group = run.users.slice(0, LATENCY_USERS);
  const sentAt = new Map<string, number>();
  const publishedAt = new Map<string, number>();
  const latencies: number[] = [];
  const fromPublish: number[] = [];
  const dispatchMs: number[] = [];
  let notSent = 0;
  fleet.onReceipt = (_user, _seq, messageId, at) => {
    const sent = sentAt.get(messageId);
    if (sent === undefined) return;
    sentAt.delete(messageId);
    latencies.push(at - sent);
    fromPublish.push(at - (publishedAt.get(messageId) ?? Number.NaN));
    publishedAt.delete(messageId);
  };
  const [gaps, duplicates, failures] = [fleet.gaps, fleet.duplicates, new Map(fleet.failures)];
  const total = RATE * SECONDS;
  const sending: Promise<void>[] = [];
  const cpuBefore = cpuSeconds(target.pid);
  const machine = cpuOfMachine(run);
  progress(`${target.name}: latency: ${total} messages at ${RATE}/s to ${LATENCY_USERS} users`);
  const started = now();
  let dispatched = 0;
  let reportedAt = started;
  while (dispatched < total) {
    const due = Math.min(total, Math.floor(((now() - started) * RATE) / 1000));
    for (; dispatched < due; dispatched++) {
      const user = group[Math.floor(Math.random() * group.length)] as BenchUser;
      const messageId = randomUUID();
      const at = now();
      sentAt.set(messageId, at);
      sending.push(
        target
          .dispatch(user.id, messageId, (published) => publishedAt.set(messageId, published))
          .then((sent) => {
            dispatchMs.push(now() - at);
            if (sent) return;
            notSent++;
            sentAt.delete(messageId);
          }),
      );
    }
    if (now() - reportedAt > 5_000) {
      reportedAt = now();
      progress(`${target.name}: latency: ${dispatched} dispatched, ${latencies.length} received`);
    }
    await pause(1);
  }
  const offeredMs = now() - started;
  await Promise.all(sending);
  await until(
    run,
    () => sentAt.size === 0,
    () => latencies.length,
    () => `${target.name}: latency: waiting for ${sentAt.size} messages`,
  );
  fleet.onReceipt = undefined;
  const cpu = cpuSeconds(target.pid) - cpuBefore;
  const machineCpu = machine();
  const lost = sentAt.size;
  console.log(
    `${target.name}, latency: ${total} messages to ${LATENCY_USERS} users at ${((total * 1000) / offeredMs).toFixed(0)}/s offered, ${fleet.connected} sockets open:`,
  );
  console.log(`  dispatch → received by the client: ${spread(latencies)}`);
  console.log(`  handed to the server (Redis PUBLISH; bare: stdin) → received: ${spread(fromPublish)}`);
  console.log(`  dispatch call (store and publish): ${spread(dispatchMs)}`);
  console.log(
    `  lost ${lost}, not dispatched ${notSent}, gaps ${fleet.gaps - gaps}, duplicates ${fleet.duplicates - duplicates}; sockets failed or closed: ${failuresSince(run, failures)}`,
  );
  console.log(`  CPU over ${seconds(now() - started)}: ${machineCpu}`);
  record(`latency @ ${RATE}/s: dispatch → client`, target, spread(latencies));
  record("latency: handed to the server → client", target, spread(fromPublish));
  record(
    "latency: lost / gaps / duplicates",
    target,
    `${lost} / ${fleet.gaps - gaps} / ${fleet.duplicates - duplicates}`,
  );
  record("latency: CPU", target, `${cpu.toFixed(1)} s (${((cpu * 1e6) / total).toFixed(0)} µs per message)`);
}

async function storm(run: Run): Promise<void> {
  const { target, fleet } = run;
  await ensureOpen(run, STORM);
  const group = run.users.slice(0, STORM);
  const behind = (expected: Map<BenchUser, number>) => {
    let count = 0;
    for (const user of group) {
      if (user.caughtUpAt === undefined || user.lastSeq < (expected.get(user) ?? 0)) count++;
    }
    return count;
  };

  // Every user has seen a message: its seq is where the reconnect resumes from.
  const seen = new Map(group.map((user) => [user, user.lastSeq + 1]));
  progress(`${target.name}: storm: a message to each of ${STORM} users`);
  const fanOutStarted = now();
  await dispatchEach(run, group, 1, "one message each");
  await until(
    run,
    () => behind(seen) === 0,
    () => behind(seen),
    () => `${target.name}: storm: ${behind(seen)} users still waiting for their message`,
  );
  const fanOutMs = now() - fanOutStarted;

  const held = await target.connections();
  await fleet.drop(group);
  let holds = held;
  const closed = await until(
    run,
    async () => {
      holds = await target.connections();
      return holds <= held - STORM;
    },
    () => holds,
    () => `${target.name}: storm: the server still holds ${holds} sockets of ${held}`,
  );
  if (!closed) throw new Error(`the server still holds ${holds} sockets after ${STORM} of ${held} were cut`);
  const missed = new Map(group.map((user) => [user, user.lastSeq + MISSED]));
  progress(`${target.name}: storm: ${STORM} sockets cut; storing ${MISSED} messages for each`);
  const storeMs = await dispatchEach(run, group, MISSED, "missed messages");

  const [gaps, duplicates, failures] = [fleet.gaps, fleet.duplicates, new Map(fleet.failures)];
  const cpuBefore = cpuSeconds(target.pid);
  const machine = cpuOfMachine(run);
  const drops = listenDrops();
  progress(`${target.name}: storm: ${STORM} reconnecting ${when} with since`);
  const started = now();
  fleet.connect(target.url, group, { inFlight: STORM, resume: true, spreadMs: STORM_SPREAD_MS });
  const complete = await until(
    run,
    () => behind(missed) === 0,
    () => behind(missed),
    () =>
      `${target.name}: storm: ${STORM - behind(missed)} of ${STORM} caught up; failed attempts: ${failuresSince(run, failures)}`,
  );
  const cpu = cpuSeconds(target.pid) - cpuBefore;
  const machineCpu = machine();
  const dropped = listenDrops() - drops;
  const caughtUp = group
    .filter((user) => user.caughtUpAt !== undefined && user.lastSeq >= (missed.get(user) ?? 0))
    .map((user) => (user.caughtUpAt as number) - started);
  const allMs = complete ? Math.max(...caughtUp) : Number.NaN;
  const [gapCount, duplicateCount] = [fleet.gaps - gaps, fleet.duplicates - duplicates];
  console.log(
    `${target.name}, storm: ${STORM} users (of ${held} sockets) each saw a message (fan-out to all in ${seconds(fanOutMs)}), were cut off at once, missed ${MISSED} each (stored in ${seconds(storeMs)}) and reconnected ${when} with since:`,
  );
  console.log(
    complete
      ? `  all caught up (every missed message and CaughtUp) ${seconds(allMs)} after the reconnect began`
      : `  NOT ALL CAUGHT UP: ${caughtUp.length} of ${STORM}`,
  );
  console.log(`  each client's reconnect → caught up: ${spread(caughtUp)}`);
  console.log(
    `  gaps ${gapCount}, duplicates ${duplicateCount}; failed attempts (opened again): ${failuresSince(run, failures)}; handshakes dropped at a full accept queue (machine-wide): ${dropped}`,
  );
  console.log(`  CPU while reconnecting: ${machineCpu}`);
  record(
    `storm: ${STORM} reconnect ${when}, all caught up`,
    target,
    complete ? seconds(allMs) : `${caughtUp.length} of ${STORM}`,
  );
  record("storm: reconnect → caught up, per client", target, spread(caughtUp));
  record("storm: gaps / duplicates", target, `${gapCount} / ${duplicateCount}`);
  record(
    "storm: failed attempts / handshakes dropped",
    target,
    `${failuresSince(run, failures)} / ${dropped}`,
  );
  record("storm: CPU", target, `${cpu.toFixed(1)} s (${((cpu * 1e3) / STORM).toFixed(2)} ms per reconnect)`);
}

const PHASE_RUNS: Record<string, (run: Run) => Promise<void>> = { idle, latency, storm };

/** What is running, for the clean-up whichever way the bench ends. */
const running = { fleets: new Set<ClientFleet>(), targets: new Set<Target>(), userIds: [] as string[] };

async function runOn(start: () => Promise<Target>, phases: string[]): Promise<void> {
  const target = await start();
  running.targets.add(target);
  const users = Array.from({ length: USERS }, (_, index) => {
    const id = randomUUID();
    // Valid for longer than the run: a token that expires closes its socket.
    return { index, id, token: bearerToken(id, ["user"], 3_600), lastSeq: -1, caughtUpAt: undefined };
  });
  if (target.name === "gateway") running.userIds.push(...users.map((user) => user.id));
  const fleet = new ClientFleet(users, PROCESSES, ADDRESSES);
  running.fleets.add(fleet);
  const run: Run = { target, fleet, users, opened: 0 };
  try {
    for (const phase of phases) {
      try {
        await PHASE_RUNS[phase]?.(run);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        console.log(`${target.name}, ${phase}: FAILED: ${message}`);
        record(`${phase}: FAILED`, target, message);
        // A client process that died leaves nothing to measure the next phases with.
        fleet.check();
      }
    }
  } finally {
    fleet.stop();
    running.fleets.delete(fleet);
    await target.stop();
    running.targets.delete(target);
  }
}

function printTable(): void {
  const names = ["gateway", "bare ws"];
  const rows = [...table].map(([row, cells]) => [row, ...names.map((name) => cells.get(name) ?? "—")]);
  const header = ["phase", ...names];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  console.log("");
  console.log(line(header));
  console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
}

let cleaned: Promise<void> | undefined;
/** Stops every child process and deletes the bench's inboxes; once, however the bench ends. */
function cleanUp(): Promise<void> {
  cleaned ??= (async () => {
    for (const fleet of running.fleets) fleet.stop();
    await Promise.allSettled([...running.targets].map((target) => target.stop()));
    if (running.userIds.length > 0) {
      await deleteInboxes(running.userIds).catch((error: unknown) =>
        progress(`deleting the bench's inboxes failed: ${(error as Error).message}`),
      );
    }
  })();
  return cleaned;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    progress(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}
// Whatever is left when the process exits anyway (an exception past the clean-up) is killed.
process.once("exit", () => {
  for (const fleet of running.fleets) fleet.stop();
  for (const target of running.targets) {
    try {
      process.kill(target.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

console.log(
  `in-app gateway bench: open files limit (RLIMIT_NOFILE, /proc/self/limits) soft ${limit.soft}, hard ${limit.hard}; ` +
    `a process cannot raise its hard limit without CAP_SYS_RESOURCE, so one process holds at most ~${limit.hard - 100} sockets here: ` +
    `${IDLE} idle sockets per process${IDLE < TARGET_CONNECTIONS ? ` (the issue's target is ${TARGET_CONNECTIONS}; not reachable in one process on this machine)` : ""}`,
);
if (IDLE > limit.hard - 100) {
  progress(`WARNING: ${IDLE} idle sockets are more than one process may open here: expect EMFILE`);
}
console.log(
  `client processes: ${PROCESSES}, source addresses ${ADDRESSES[0]}–${ADDRESSES.at(-1)}; heartbeat ${HEARTBEAT_MS} ms; phases ${[...GATEWAY_PHASES.map((phase) => `gateway ${phase}`), ...BARE_PHASES.map((phase) => `bare ${phase}`)].join(", ")}`,
);
try {
  if (GATEWAY_PHASES.length > 0) await runOn(() => startGateway(), GATEWAY_PHASES);
  if (BARE_PHASES.length > 0) await runOn(() => startBare(HEARTBEAT_MS), BARE_PHASES);
  printTable();
} catch (error) {
  progress(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
