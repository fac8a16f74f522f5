import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../server/config.ts";

const VALID = {
  DATABASE_URL: "postgres://u:secret@127.0.0.1:5432/db",
  REDIS_URL: "redis://127.0.0.1:6379",
  KAFKA_BROKERS: "127.0.0.1:9092,kafka-2:9092",
  SCHEMA_REGISTRY_URL: "http://127.0.0.1:8081",
  CLICKHOUSE_URL: "http://127.0.0.1:8123",
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("loadConfig", () => {
  it("reads a complete environment with defaults for the optional variables", () => {
    const config = loadConfig(VALID);
    expect(config.role).toBe("all");
    expect(config.http).toEqual({ host: "127.0.0.1", port: 8080, grpcPort: 8081, requestMaxBytes: 1048576 });
    expect(config.kafka.brokers).toEqual(["127.0.0.1:9092", "kafka-2:9092"]);
  });

  it("keeps /readyz details off unless READYZ_DETAILS turns them on", () => {
    expect(loadConfig(VALID).readyzDetails).toBe(false);
    expect(loadConfig({ ...VALID, READYZ_DETAILS: "true" }).readyzDetails).toBe(true);
    expect(loadConfig({ ...VALID, READYZ_DETAILS: "0" }).readyzDetails).toBe(false);
    expect(problemsOf({ ...VALID, READYZ_DETAILS: "yes please" })).toEqual([
      'READYZ_DETAILS must be true or false, got "yes please"',
    ]);
  });

  it("reads the template render limits, with defaults that bound every render", () => {
    expect(loadConfig(VALID).templateRender).toEqual({
      maxSectionDepth: 16,
      maxOutputBytes: 524288,
      maxSteps: 50000,
    });
    const set = loadConfig({
      ...VALID,
      TEMPLATE_MAX_SECTION_DEPTH: "8",
      TEMPLATE_RENDER_MAX_OUTPUT_BYTES: "262144",
      TEMPLATE_RENDER_MAX_STEPS: "50000",
    });
    expect(set.templateRender).toEqual({ maxSectionDepth: 8, maxOutputBytes: 262144, maxSteps: 50000 });
    expect(
      problemsOf({ ...VALID, TEMPLATE_MAX_SECTION_DEPTH: "0", TEMPLATE_RENDER_MAX_STEPS: "lots" }),
    ).toEqual([
      'TEMPLATE_MAX_SECTION_DEPTH must be an integer from 1 to 100, got "0"',
      'TEMPLATE_RENDER_MAX_STEPS must be an integer from 100 to 100000000, got "lots"',
    ]);
  });

  it("reads the stats writer's batching, bound and backoff, and checks they fit together", () => {
    expect(loadConfig(VALID).statsWriter).toEqual({
      batchRows: 5_000,
      flushIntervalMs: 1_000,
      maxBufferedRows: 100_000,
      retryInitialMs: 200,
      retryMaxMs: 30_000,
    });
    expect(
      loadConfig({ ...VALID, STATS_BATCH_ROWS: "500", STATS_FLUSH_INTERVAL_MS: "250" }).statsWriter,
    ).toMatchObject({
      batchRows: 500,
      flushIntervalMs: 250,
    });
    expect(
      problemsOf({
        ...VALID,
        STATS_BATCH_ROWS: "2000",
        STATS_MAX_BUFFERED_ROWS: "1000",
        STATS_RETRY_MAX_MS: "100",
      }),
    ).toEqual([
      "STATS_MAX_BUFFERED_ROWS (1000) must be at least STATS_BATCH_ROWS (2000)",
      "STATS_RETRY_MAX_MS (100) must be at least STATS_RETRY_INITIAL_MS (200)",
    ]);
  });

  it("logs failed calls only unless LOG_CALLS asks for more", () => {
    expect(loadConfig(VALID).logCalls).toEqual({ successSampleRate: 0 });
    expect(loadConfig({ ...VALID, LOG_CALLS: "all" }).logCalls).toEqual({ successSampleRate: 1 });
    expect(loadConfig({ ...VALID, LOG_CALLS: "0.01" }).logCalls).toEqual({ successSampleRate: 0.01 });
    for (const wrong of ["none", "1.5", "-0.1", "some"]) {
      expect(problemsOf({ ...VALID, LOG_CALLS: wrong }), wrong).toEqual([
        `LOG_CALLS must be errors, all or a fraction from 0 to 1, got "${wrong}"`,
      ]);
    }
  });

  it("takes the role from the command line over ROLE", () => {
    expect(loadConfig({ ...VALID, ROLE: "worker" }, "gateway").role).toBe("gateway");
    expect(loadConfig({ ...VALID, ROLE: "worker" }).role).toBe("worker");
  });

  it("names every missing and malformed variable at once, never a password", () => {
    const problems = problemsOf({
      ...VALID,
      REDIS_URL: undefined,
      DATABASE_URL: "mysql://u:hunter2@host/db",
      HTTP_PORT: "70000",
      LOG_LEVEL: "loud",
      KAFKA_BROKERS: "localhost",
    });
    expect(problems).toEqual([
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'HTTP_PORT must be an integer from 1 to 65535, got "70000"',
      'DATABASE_URL must use postgres: or postgresql:, got "mysql:"',
      "REDIS_URL is required",
      'KAFKA_BROKERS must be host:port[,host:port…], got "localhost"',
    ]);
    expect(problems.join("\n")).not.toContain("hunter2");
  });

  it("rejects an unknown role and clashing ports", () => {
    expect(problemsOf({ ...VALID, ROLE: "everything" })).toEqual([
      'ROLE must be one of api, worker, gateway, all, got "everything"',
    ]);
    expect(problemsOf({ ...VALID, GRPC_PORT: "8080" })).toEqual([
      "HTTP_PORT, GRPC_PORT and GATEWAY_PORT must differ, got 8080, 8080, 8082",
    ]);
  });
});

describe("loadConfig: recipient keys", () => {
  const key = (byte: number, length = 32) => Buffer.alloc(length, byte).toString("base64");

  it("reads the sealing key first, older keys after it, and the lookup key", () => {
    expect(loadConfig(VALID).recipientKeys).toBeUndefined();
    const config = loadConfig({
      ...VALID,
      RECIPIENT_KEYS: `k2:${key(2)}, k1:${key(1)}`,
      RECIPIENT_LOOKUP_KEY: key(9, 48),
    });
    expect(config.recipientKeys?.keys.map((each) => each.id)).toEqual(["k2", "k1"]);
    expect(config.recipientKeys?.keys[0]?.secret).toEqual(Buffer.alloc(32, 2));
    expect(config.recipientKeys?.lookupSecret).toEqual(Buffer.alloc(48, 9));
  });

  it("names what is wrong: one without the other, a short key, a bad entry, a repeated id", () => {
    expect(problemsOf({ ...VALID, RECIPIENT_KEYS: `k1:${key(1)}` })).toEqual([
      "set both RECIPIENT_KEYS and RECIPIENT_LOOKUP_KEY, or neither",
    ]);
    expect(
      problemsOf({
        ...VALID,
        RECIPIENT_KEYS: `k1:${key(1, 16)},nokey,k2:${key(2)},k2:${key(3)}`,
        RECIPIENT_LOOKUP_KEY: key(9, 16),
      }),
    ).toEqual([
      'RECIPIENT_KEYS: key 1 must be "id:" and 32 bytes in base64',
      'RECIPIENT_KEYS: key 2 must be "id:" and 32 bytes in base64',
      "RECIPIENT_KEYS: two keys have the id k2",
      "RECIPIENT_LOOKUP_KEY must be at least 32 bytes in base64",
    ]);
  });
});
