// How fast the built service starts and stops, and how much memory it holds idle.
// Run with the local services up: `npm run bench:startup` (RUNS=10 for more runs).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { freePort } from "../test/support/service-process.ts";
import { REPO_ROOT } from "../test/support/services.ts";

const runs = Number(process.env.RUNS ?? 5);

async function untilOk(url: string, started: number): Promise<number> {
  for (;;) {
    try {
      if ((await fetch(url)).ok) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

const samples: { alive: number; ready: number; stop: number; rss: number; code: number | null }[] = [];
for (let run = 1; run <= runs; run++) {
  const [http, grpc, gateway] = [await freePort(), await freePort(), await freePort()];
  const started = performance.now();
  const child = spawn(process.execPath, ["dist/server/main.js", "all"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      HTTP_PORT: `${http}`,
      GRPC_PORT: `${grpc}`,
      GATEWAY_PORT: `${gateway}`,
      LOG_LEVEL: "warn",
    },
    stdio: "ignore",
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const alive = await untilOk(`http://127.0.0.1:${http}/healthz`, started);
  const ready = await untilOk(`http://127.0.0.1:${http}/readyz`, started);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const rss = rssMiB(child.pid ?? 0);
  const stopping = performance.now();
  child.kill("SIGTERM");
  const code = await exited;
  samples.push({ alive, ready, stop: performance.now() - stopping, rss, code });
  console.error(`run ${run}/${runs}: ready in ${ready.toFixed(0)} ms`);
}

const sorted = (key: "alive" | "ready" | "stop" | "rss") => samples.map((s) => s[key]).sort((a, b) => a - b);
const median = (values: number[]) => values[Math.floor(values.length / 2)] ?? Number.NaN;
console.log(`service start and stop, role "all", ${runs} runs`);
for (const [label, key, unit] of [
  ["alive (/healthz 200)", "alive", "ms"],
  ["ready (/readyz 200)", "ready", "ms"],
  ["SIGTERM to exit", "stop", "ms"],
  ["idle RSS after 1 s", "rss", "MiB"],
] as const) {
  const values = sorted(key);
  console.log(
    `  ${label.padEnd(22)} first ${samples[0]?.[key].toFixed(0)} ${unit}, median ${median(values).toFixed(0)} ${unit}, max ${values.at(-1)?.toFixed(0)} ${unit}`,
  );
}
console.log(`  exit codes: ${[...new Set(samples.map((s) => s.code))].join(", ")}`);
