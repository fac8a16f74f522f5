import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { REPO_ROOT } from "./services.ts";

/** The built service (dist/) running as a child process, as it runs in production. */
export interface ServiceProcess {
  child: ChildProcess;
  httpUrl: string;
  grpcUrl: string;
  gatewayUrl: string;
  /** Every JSON log line the process wrote so far. */
  logs: Record<string, unknown>[];
  /** Raw stdout and stderr, for the failure message. */
  output: () => string;
  /** Sends SIGTERM and resolves with the exit code and how long the exit took. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Free ports for the ones not given, all different: a port freed by one probe may be handed to the next. */
async function distinctPorts(given: { http?: number; gateway?: number }) {
  const taken = new Set([given.http, given.gateway].filter((port) => port !== undefined));
  const next = async () => {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    return port;
  };
  return { http: given.http ?? (await next()), grpc: await next(), gateway: given.gateway ?? (await next()) };
}

export async function startServiceProcess(
  options: {
    role?: string;
    env?: Record<string, string>;
    /** Node's flags; tests map stacks to the TypeScript sources, a benchmark runs as production does. */
    nodeFlags?: string[];
    /** The HTTP port, when the test must know it before the start (a peer calling back). */
    httpPort?: number;
    /** The gateway's port, when the test must know it before the start (its origin allowed). */
    gatewayPort?: number;
  } = {},
): Promise<ServiceProcess> {
  const { http, grpc, gateway } = await distinctPorts({
    http: options.httpPort,
    gateway: options.gatewayPort,
  });
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? ["--enable-source-maps"]), "dist/server/main.js", options.role ?? "all"],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        HTTP_PORT: String(http),
        GRPC_PORT: String(grpc),
        GATEWAY_PORT: String(gateway),
        LOG_LEVEL: "debug",
        HEALTH_WATCH_INTERVAL_MS: "200",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const logs: Record<string, unknown>[] = [];
  let raw = "";
  let partial = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    raw += chunk.toString();
    partial += chunk.toString();
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ unparsed: line });
      }
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    raw += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const service: ServiceProcess = {
    child,
    httpUrl: `http://127.0.0.1:${http}`,
    grpcUrl: `http://127.0.0.1:${grpc}`,
    gatewayUrl: `http://127.0.0.1:${gateway}`,
    logs,
    output: () => raw,
    async stop() {
      const started = performance.now();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const result = await exited;
      return { ...result, ms: performance.now() - started };
    },
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}:\n${raw}`);
    try {
      if ((await fetch(`${service.httpUrl}/healthz`)).ok) return service;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await service.stop();
  throw new Error(`the service did not answer /healthz within 30 s:\n${raw}`);
}

/** Polls `probe` until it returns true or the time is up; returns whether it did. */
export async function eventually(probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** The value of one sample of /metrics with exactly these labels (besides `service`), 0 when absent. */
export async function metricSample(
  of: Pick<ServiceProcess, "httpUrl">,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const text = await (await fetch(`${of.httpUrl}/metrics`)).text();
  for (const line of text.split("\n")) {
    const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]),
    );
    delete found.service;
    if (JSON.stringify(Object.entries(found).sort()) === JSON.stringify(Object.entries(labels).sort())) {
      return Number(match[3]);
    }
  }
  return 0;
}
