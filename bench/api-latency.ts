// Throughput and latency of one cached read (TemplateService.GetTemplate, authenticated and
// validated) on the REST and Connect surfaces of the built service, measured with wrk beside
// two ceilings run in the same invocation: a bare node:http server and a bare connect-node
// router with one trivial handler and no interceptors. `npm run bench:api`.
//   BENCH_SECONDS=5 per measurement, BENCH_ROUNDS=3 (medians are printed), BENCH_CONNECTIONS=16.
// Loopback only; about (2 + ROUNDS × 5) × SECONDS in all. wrk comes from Debian when missing.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AUTH_ENV, authHeaders } from "../test/support/credentials.ts";
import { freePort, startServiceProcess } from "../test/support/service-process.ts";

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);

interface Target {
  name: string;
  url: string;
  /** The process serving it, whose CPU time per request is measured. */
  pid: number | undefined;
  /** A wrk Lua script: method, body and headers. */
  script: string;
}

interface Run {
  rps: number;
  /** CPU time (user + system) of the serving process per request: much less noisy than rps here. */
  cpuUs: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function ensureWrk(): void {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return;
  } catch (error) {
    // wrk prints its version and exits 1; only a missing binary is ENOENT.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return;
  }
  console.error("wrk is missing: installing it from Debian (apt-get install -y wrk)");
  try {
    execFileSync("apt-get", ["install", "-y", "wrk"], { stdio: "inherit" });
  } catch {
    execFileSync("apt-get", ["update"], { stdio: "inherit" });
    execFileSync("apt-get", ["install", "-y", "wrk"], { stdio: "inherit" });
  }
}

async function startCeiling(kind: "http" | "connect"): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      "--experimental-transform-types",
      "--disable-warning=ExperimentalWarning",
      "bench/ceiling-servers.ts",
      kind,
      String(port),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the ${kind} ceiling server exited with ${code}`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("listening")) resolve();
    });
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

function luaScript(method: string, headers: Record<string, string>, body?: string): string {
  const lines = [`wrk.method = ${JSON.stringify(method)}`];
  if (body !== undefined) lines.push(`wrk.body = ${JSON.stringify(body)}`);
  for (const [name, value] of Object.entries(headers)) {
    lines.push(`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

function toMs(value: string, unit: string): number {
  const factor = unit === "us" ? 0.001 : unit === "ms" ? 1 : unit === "s" ? 1000 : Number.NaN;
  return Number(value) * factor;
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  // The command name is in parentheses and may hold spaces; the fields after it are fixed.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

function runWrk(target: Target, dir: string, durationSeconds: number): Run {
  const script = join(dir, `${target.name.replace(/\W+/g, "_")}.lua`);
  writeFileSync(script, target.script);
  const cpuBefore = cpuSeconds(target.pid);
  const output = execFileSync(
    "wrk",
    ["-t1", `-c${connections}`, `-d${durationSeconds}s`, "--latency", "-s", script, target.url],
    { encoding: "utf8" },
  );
  const latency = (percent: string) => {
    const match = new RegExp(`^\\s+${percent}%\\s+([\\d.]+)(us|ms|s)$`, "m").exec(output);
    return match ? toMs(match[1] as string, match[2] as string) : Number.NaN;
  };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
    .exec(output)
    ?.slice(1)
    .reduce((sum, each) => sum + Number(each), 0);
  const cpu = cpuSeconds(target.pid) - cpuBefore;
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? Number.NaN);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? Number.NaN),
    cpuUs: (cpu * 1e6) / requests,
    p50Ms: latency("50"),
    p99Ms: latency("99"),
    errors: non2xx + (socketErrors ?? 0),
  };
}

/** A GET on a connection of its own: fetch's pooled one from before the runs has been closed by the server. */
function getText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve(text));
      })
      .on("error", reject);
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function rssMiB(pid: number | undefined): string {
  if (pid === undefined) return "?";
  const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  return `${(kib / 1024).toFixed(0)} MiB`;
}

ensureWrk();
const dir = mkdtempSync(join(tmpdir(), "bench-api-"));
const ceilings = { http: await startCeiling("http"), connect: await startCeiling("connect") };
// The service as it runs in production: no source maps, info logs, the default LOG_CALLS.
const service = await startServiceProcess({ env: { ...AUTH_ENV, LOG_LEVEL: "info" }, nodeFlags: [] });
try {
  const created = await fetch(`${service.httpUrl}/api/v1/notifications/templates`, {
    method: "POST",
    headers: { ...authHeaders("bench-admin", ["admin"]), "content-type": "application/json" },
    body: JSON.stringify({
      name: `bench_${Date.now()}`,
      channel_type: "CHANNEL_EMAIL",
      default_language_code: "ru",
    }),
  });
  if (!created.ok) {
    throw new Error(
      `creating the template answered HTTP ${created.status}:\n${service.output().slice(-6000)}`,
    );
  }
  const { id } = (await created.json()) as { id: string };
  const caller = authHeaders("bench", ["service"]);
  const connectBody = JSON.stringify({ templateId: id });
  const connectPath = "/platform.notification.v1.TemplateService/GetTemplate";
  const json = { "content-type": "application/json" };
  const targets: Target[] = [
    {
      name: "bare node:http",
      url: `${ceilings.http.url}/`,
      pid: ceilings.http.child.pid,
      script: luaScript("GET", {}),
    },
    {
      name: "bare connect router",
      url: `${ceilings.connect.url}${connectPath}`,
      pid: ceilings.connect.child.pid,
      script: luaScript("POST", json, connectBody),
    },
    {
      name: "service /healthz",
      url: `${service.httpUrl}/healthz`,
      pid: service.child.pid,
      script: luaScript("GET", {}),
    },
    {
      name: "GetTemplate REST",
      url: `${service.httpUrl}/api/v1/notifications/templates/${id}`,
      pid: service.child.pid,
      script: luaScript("GET", caller),
    },
    {
      name: "GetTemplate Connect",
      url: `${service.httpUrl}${connectPath}`,
      pid: service.child.pid,
      script: luaScript("POST", { ...caller, ...json }, connectBody),
    },
  ];

  console.log(
    `GetTemplate (cached read, authenticated, validated) with wrk: 1 thread, ${connections} connections, ` +
      `${seconds} s per run, ${rounds} rounds in turn; medians`,
  );
  for (const target of targets) runWrk(target, dir, 1); // warm-up: JIT, caches, keep-alive
  const runs = new Map<string, Run[]>(targets.map((target) => [target.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) runs.get(target.name)?.push(runWrk(target, dir, seconds));
  }

  const summary = new Map(
    [...runs].map(([name, each]) => [
      name,
      {
        rps: median(each.map((run) => run.rps)),
        p50Ms: median(each.map((run) => run.p50Ms)),
        p99Ms: median(each.map((run) => run.p99Ms)),
        cpuUs: median(each.map((run) => run.cpuUs)),
        errors: each.reduce((sum, run) => sum + run.errors, 0),
        all: each.map((run) => Math.round(run.rps)),
      },
    ]),
  );
  const bare = (name: string) => summary.get(name) ?? { rps: Number.NaN, cpuUs: Number.NaN };
  const [http1, connect] = [bare("bare node:http"), bare("bare connect router")];
  const percent = (value: number) => `${(100 * value).toFixed(0)}%`;
  const columns = (cells: string[]) =>
    `  ${(cells[0] ?? "").padEnd(22)}${cells
      .slice(1, -1)
      .map((cell) => cell.padStart(9))
      .join("")}   ${cells.at(-1)}`;
  console.log(
    columns([
      "",
      "req/s",
      "p50 ms",
      "p99 ms",
      "÷ http",
      "÷ connect",
      "CPU µs",
      "÷ http",
      "÷ connect",
      "runs (req/s)",
    ]),
  );
  for (const [name, row] of summary) {
    console.log(
      columns([
        name,
        String(Math.round(row.rps)),
        row.p50Ms.toFixed(2),
        row.p99Ms.toFixed(2),
        percent(row.rps / http1.rps),
        percent(row.rps / connect.rps),
        row.cpuUs.toFixed(0),
        percent(http1.cpuUs / row.cpuUs),
        percent(connect.cpuUs / row.cpuUs),
        `${row.all.join(", ")}${row.errors ? `   ${row.errors} failed responses!` : ""}`,
      ]),
    );
  }
  console.log(
    "  ÷: req/s as a share of each ceiling's; CPU µs: the serving process's CPU time per request, " +
      "and the ceiling's CPU per request as a share of it (the same ratio, less noisy on a shared machine)",
  );
  console.log(
    `  RSS after the runs: service ${rssMiB(service.child.pid)}, bare http ${rssMiB(ceilings.http.child.pid)}, ` +
      `bare connect ${rssMiB(ceilings.connect.child.pid)}`,
  );
  const metrics = await getText(`${service.httpUrl}/metrics`);
  for (const line of metrics.split("\n")) {
    if (line.startsWith("notification_cache_lookups_total") && line.includes('cache="templates"')) {
      console.log(`  ${line.replace(/service="[^"]*",?/, "")}`);
    }
  }
  const callLines = service.logs.filter((line) => line.message === "rpc").length;
  console.log(`  per-call log lines the service wrote: ${callLines}`);
} finally {
  await service.stop();
  for (const ceiling of Object.values(ceilings)) ceiling.child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
