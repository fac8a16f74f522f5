// What the benches read from /proc: a process's memory, CPU time and limit of open files,
// where the machine's CPU went, and the connections its kernel dropped.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** VmRSS of a process, in bytes; NaN once it is gone. */
export function rssBytes(pid: number): number {
  return statusBytes(pid, "VmRSS");
}

/** VmHWM of a process, the most RSS it ever had, in bytes; NaN once it is gone. */
export function peakRssBytes(pid: number): number {
  return statusBytes(pid, "VmHWM");
}

function statusBytes(pid: number, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) * 1024;
  } catch {
    return Number.NaN;
  }
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** User and system CPU seconds a process used so far; NaN once it is gone (or none was given). */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** This process's limit of open files, soft and hard, as /proc/self/limits tells it. */
export function openFilesLimit(): { soft: number; hard: number } {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((each) => each.startsWith("Max open files"));
  const [soft, hard] = (line ?? "")
    .split(/\s{2,}/)
    .slice(1, 3)
    .map(Number);
  return { soft: soft ?? Number.NaN, hard: hard ?? Number.NaN };
}

/** Where the machine's CPU went since the call: seconds by kind of process, `kindOf`'s or the service it is. */
export function cpuByProcess(kindOf: (pid: number) => string | undefined): () => Map<string, number> {
  const read = () => {
    const spent = new Map<number, number>();
    for (const entry of readdirSync("/proc")) {
      const pid = Number(entry);
      if (Number.isInteger(pid)) spent.set(pid, cpuSeconds(pid));
    }
    return spent;
  };
  const before = read();
  return () => {
    const byKind = new Map<string, number>();
    for (const [pid, after] of read()) {
      const spent = after - (before.get(pid) ?? 0);
      if (!Number.isFinite(spent) || spent <= 0) continue;
      const kind = kindOf(pid) ?? serviceOf(pid);
      byKind.set(kind, (byKind.get(kind) ?? 0) + spent);
    }
    return byKind;
  };
}

/** `worker 338.1 s, PostgreSQL 195.0 s, …`, busiest first. */
export function cpuSecondsLine(byKind: Map<string, number>): string {
  return [...byKind]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, seconds]) => `${kind} ${seconds.toFixed(1)} s`)
    .join(", ");
}

/** The local service a process is (scripts/services), or "other". */
function serviceOf(pid: number): string {
  let command = "";
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "other";
  }
  if (command.startsWith("postgres")) return "PostgreSQL";
  if (command.includes("kafka.Kafka")) return "Kafka";
  if (command.includes("clickhouse")) return "ClickHouse";
  if (command.includes("quarkus-run.jar")) return "schema registry";
  if (command.includes("redis-server")) return "Redis";
  return "other";
}

/**
 * Connections the kernel dropped at a full accept queue (TcpExt ListenDrops), on the whole
 * machine: a client whose SYN is dropped sends it again a second later, then 3 s, 7 s…
 */
export function listenDrops(): number {
  const lines = readFileSync("/proc/net/netstat", "utf8")
    .split("\n")
    .filter((line) => line.startsWith("TcpExt:"));
  const names = lines[0]?.split(" ") ?? [];
  const values = lines[1]?.split(" ") ?? [];
  return Number(values[names.indexOf("ListenDrops")] ?? Number.NaN);
}
