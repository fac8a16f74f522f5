// A ClickHouse front of this working tree's own, on a free port with a data
// directory of its own, for tests of the front itself and tests that stop it: the
// shared one (scripts/services) may run another tree's code, and another test run
// may start it again while a test here has it stopped.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./services.ts";

export interface ClickHouseFront {
  url: string;
  /** Stops the front (SIGTERM, as scripts/services does) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data (unless it runs), and waits until it answers a query. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startClickHouseFront(): Promise<ClickHouseFront> {
  const dataDir = await mkdtemp(join(tmpdir(), "clickhouse-front-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = "";

  async function ready(): Promise<boolean> {
    try {
      const answer = await fetch(url, {
        method: "POST",
        body: "SELECT 1",
        signal: AbortSignal.timeout(1_000),
      });
      return (await answer.text()) === "1\n";
    } catch {
      return false;
    }
  }

  const front: ClickHouseFront = {
    url,
    async start() {
      if (child && child.exitCode === null) return;
      output = "";
      child = spawn(process.execPath, [join(REPO_ROOT, "scripts", "clickhouse-http", "server.ts")], {
        env: { ...process.env, CLICKHOUSE_PORT: String(port), CLICKHOUSE_DATA_DIR: dataDir },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const collect = (chunk: Buffer): void => {
        output = (output + chunk.toString()).slice(-4_000);
      };
      child.stdout?.on("data", collect);
      child.stderr?.on("data", collect);
      const until = Date.now() + 30_000;
      while (!(await ready())) {
        if (child.exitCode !== null || Date.now() > until) {
          throw new Error(`the ClickHouse front did not start:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGTERM");
      await exited;
    },
    async dispose() {
      await front.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  // A test process that ends without dispose (a crash, a timeout) takes its front along.
  process.once("exit", () => child?.kill("SIGKILL"));
  await front.start();
  return front;
}
