// First: kafkajs binds its checksum when it loads (see the module).
import "./kafka-checksum.ts";
import "./kafka-request-queue.ts";
import {
  type ClickHouseClient,
  ClickHouseLogLevel,
  createClient as createClickHouseClient,
} from "@clickhouse/client";
import { Migrator } from "@mikro-orm/migrations";
import { MikroORM } from "@mikro-orm/postgresql";
import { Redis } from "ioredis";
import { type Admin, Kafka, logLevel, type Producer } from "kafkajs";
import { keyPartitioner } from "../consumers/index.ts";
import type { Logger } from "../core/logger.ts";
import { postgresMigrations } from "../migrations/index.ts";
import { entities } from "../storage/index.ts";
import type { Config } from "./config.ts";

/**
 * The clients of every dependency, opened once per process by the composition root
 * and closed once at shutdown. Nothing here connects eagerly: a dependency that is
 * down at start makes the process unready, not dead, and it recovers on its own.
 */
export interface Infrastructure {
  orm: MikroORM;
  redis: Redis;
  kafka: Kafka;
  kafkaAdmin: Admin;
  /**
   * The process's one producer of what the outbox holds. Idempotent, one request in flight:
   * a retried batch is neither doubled nor reordered. Connected by the composition root.
   */
  kafkaProducer: Producer;
  schemaRegistryUrl: string;
  clickhouse: ClickHouseClient;
  close(): Promise<void>;
}

export function createOrm(config: Config["postgres"], logger: Logger): MikroORM {
  const ormLogger = logger.child({ component: "mikro-orm" });
  return new MikroORM({
    clientUrl: config.url,
    logger: (message) => ormLogger.info({}, message),
    colors: false,
    entities,
    extensions: [Migrator],
    migrations: {
      migrationsList: postgresMigrations,
      tableName: "schema_migrations",
      transactional: true,
      silent: true,
      // Our migrations are written by hand; no schema snapshot files in the working folder.
      snapshot: false,
    },
    pool: { min: 0, max: config.poolMax },
  });
}

export function createClickHouse(config: Config["clickhouse"]): ClickHouseClient {
  return createClickHouseClient({
    url: config.url,
    database: config.database,
    username: config.username,
    password: config.password,
    request_timeout: 30_000,
    // Failures reach us as rejected promises and are logged where they are handled.
    log: { level: ClickHouseLogLevel.OFF },
  });
}

export function createKafka(config: Pick<Config, "kafka" | "healthProbeTimeoutMs">): Kafka {
  return new Kafka({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: config.healthProbeTimeoutMs,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
}

/** The registry's base URL, as every client of it joins paths to it. */
export function schemaRegistryUrlOf(config: Pick<Config, "schemaRegistry">): string {
  return config.schemaRegistry.url.replace(/\/+$/, "");
}

export function openInfrastructure(config: Config, logger: Logger): Infrastructure {
  const orm = createOrm(config.postgres, logger);
  const redis = new Redis(config.redis.url, {
    lazyConnect: false,
    // Commands issued in one turn of the event loop leave in one write: a batch's cache
    // lookups, the limiter's and the frequency cap's calls each cost a syscall otherwise.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 2,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  const redisLog = logger.child({ dependency: "redis" });
  let redisWasReady = false;
  redis.on("ready", () => {
    redisWasReady = true;
    redisLog.info({}, "connected");
  });
  redis.on("error", (error: Error) => {
    if (redisWasReady) redisLog.warn({ err: error }, "connection error");
    redisWasReady = false;
  });
  const kafka = createKafka(config);
  const kafkaAdmin = kafka.admin();
  const kafkaProducer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: keyPartitioner,
  });
  const clickhouse = createClickHouse(config.clickhouse);
  return {
    orm,
    redis,
    kafka,
    kafkaAdmin,
    kafkaProducer,
    schemaRegistryUrl: schemaRegistryUrlOf(config),
    clickhouse,
    async close() {
      const results = await Promise.allSettled([
        orm.close(true),
        redis.quit().catch(() => redis.disconnect()),
        kafkaAdmin.disconnect(),
        kafkaProducer.disconnect(),
        clickhouse.close(),
      ]);
      for (const result of results) {
        if (result.status === "rejected") logger.warn({ err: result.reason }, "closing a client failed");
      }
    },
  };
}
