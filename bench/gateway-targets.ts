// What `bench/gateway.ts` opens its clients to and dispatches through, in a process of its own
// each: the built service's gateway role, its messages dispatched as the worker does (the
// InAppProvider storing in PostgreSQL and publishing on Redis, here in the bench's process);
// and the bare `ws` server (bench/bare-ws-server.ts), its messages handed over on stdin.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { EntityManager, MikroORM } from "@mikro-orm/postgresql";
import { Redis } from "ioredis";
import { InAppProvider } from "../dispatch/index.ts";
import { createOrm } from "../server/infrastructure.ts";
import { createLogger } from "../server/logger.ts";
import { PostgresInboxStore, RedisLiveInboxPublisher } from "../storage/index.ts";
import { boundQuery } from "../storage/postgres/bound-sql.ts";
import { AUTH_ENV } from "../test/support/credentials.ts";
import {
  freePort,
  metricSample,
  type ServiceProcess,
  startServiceProcess,
} from "../test/support/service-process.ts";
import { localServices, REPO_ROOT } from "../test/support/services.ts";

export interface Target {
  name: string;
  pid: number;
  /** Where clients open their WebSocket. */
  url: string;
  /**
   * Stores the user's next message and has it sent to their sockets; false when it was not.
   * `handedOver` is called as the message leaves for the server: the PUBLISH to Redis, the write to stdin.
   */
  dispatch(userId: string, messageId: string, handedOver?: (at: number) => void): Promise<boolean>;
  /** Resolves once every dispatch so far was taken in. */
  settle(): Promise<void>;
  heapUsedBytes(): Promise<number>;
  /** The sockets the process holds, as it counts them. */
  connections(): Promise<number>;
  stop(): Promise<void>;
}

const now = () => performance.timeOrigin + performance.now();

/** The gateway role of the built service, and the in-app provider that feeds it. */
export async function startGateway(): Promise<Target> {
  const service: ServiceProcess = await startServiceProcess({
    role: "gateway",
    // As production runs it; BENCH_CPU_PROF=DIR has it write a CPU profile there when it stops.
    nodeFlags: process.env.BENCH_CPU_PROF
      ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : [],
    env: { ...AUTH_ENV, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn" },
  });
  // A pool as wide as the worker's: dispatches at a fixed rate wait on it, not on each other.
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 10 }, createLogger("silent"));
  const redis = new Redis(localServices().redisUrl);
  // Said, not thrown: ioredis connects again, and the gateway catches its sockets up from the store.
  let warnedAt = 0;
  redis.on("error", (error: Error) => {
    if (Date.now() - warnedAt < 5_000) return;
    warnedAt = Date.now();
    process.stderr.write(
      `[bench:gateway] WARNING: Redis failed (${error.message}): the figures are disturbed\n`,
    );
  });
  const publisher = new RedisLiveInboxPublisher(redis);
  const publishing = new Map<string, (at: number) => void>();
  const provider = new InAppProvider({
    inbox: new PostgresInboxStore(orm),
    live: {
      publish(event) {
        if (event.kind === "message") publishing.get(event.message.messageId)?.(now());
        return publisher.publish(event);
      },
    },
  });
  return {
    name: "gateway",
    pid: service.child.pid as number,
    url: `${service.gatewayUrl.replace(/^http/, "ws")}/ws`,
    async dispatch(userId, messageId, handedOver) {
      if (handedOver) publishing.set(messageId, handedOver);
      const outcome = await provider.send({
        messageId,
        destination: { channel: "in_app", userId },
        subject: "Заказ в пути",
        body: "Курьер будет через час",
        bodyHtml: "",
        priority: "high",
        notificationType: "bench_gateway",
      });
      publishing.delete(messageId);
      return outcome.status === "sent";
    },
    settle: async () => {},
    heapUsedBytes: () => metricSample(service, "nodejs_heap_size_used_bytes", {}),
    connections: () => metricSample(service, "notification_gateway_connections", {}),
    async stop() {
      await service.stop();
      redis.disconnect();
      await orm.close(true);
    },
  };
}

/** Deletes the inboxes of the bench's users, so runs do not pile rows up in the shared database. */
export async function deleteInboxes(userIds: readonly string[]): Promise<void> {
  const orm = createOrm({ url: localServices().databaseUrl, poolMax: 1 }, createLogger("silent"));
  try {
    const em = orm.em.fork() as EntityManager;
    await boundQuery(em, "DELETE FROM notification_inbox WHERE user_id = ANY(?::uuid[])", [userIds]);
    await boundQuery(em, "DELETE FROM notification_inbox_heads WHERE user_id = ANY(?::uuid[])", [userIds]);
  } finally {
    await orm.close(true);
  }
}

/** The bare ws server, pinging as often as the gateway does. */
export async function startBare(heartbeatMs: number): Promise<Target> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [...process.execArgv, "bench/bare-ws-server.ts", String(port), String(heartbeatMs)],
    { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "inherit"] },
  );
  const answers = new Map<number, (stats: { heapUsed: number; connections: number }) => void>();
  let asked = 0;
  const listening = new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the bare ws server exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const reply = JSON.parse(line) as {
        listening?: number;
        stats?: number;
        heapUsed: number;
        connections: number;
      };
      if (reply.listening) resolve();
      if (reply.stats !== undefined) answers.get(reply.stats)?.(reply);
    });
  });
  await listening;
  const write = (command: object) => child.stdin?.write(`${JSON.stringify(command)}\n`);
  const stats = () =>
    new Promise<{ heapUsed: number; connections: number }>((resolve) => {
      const id = ++asked;
      answers.set(id, resolve);
      write({ stats: id });
    });
  return {
    name: "bare ws",
    pid: child.pid as number,
    url: `ws://127.0.0.1:${port}/ws`,
    async dispatch(to, messageId, handedOver) {
      handedOver?.(now());
      write({ to, messageId });
      return true;
    },
    // Commands are taken in order: once a later one is answered, the earlier ones were done.
    settle: async () => {
      await stats();
    },
    heapUsedBytes: async () => (await stats()).heapUsed,
    connections: async () => (await stats()).connections,
    async stop() {
      child.removeAllListeners("exit");
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
