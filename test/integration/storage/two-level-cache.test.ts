import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { Logger } from "../../../core/logger.ts";
import { type CacheOutcome, InvalidationSubscriber, TwoLevelCache } from "../../../storage/index.ts";
import { eventually, freePort } from "../../support/service-process.ts";
import { localServices } from "../../support/services.ts";

interface Versioned {
  version: number;
  text: string;
}

/** A stand-in for the database: the loader reads it, a "write" changes it and then invalidates. */
class Table {
  readonly rows = new Map<string, Versioned>();
  loads = 0;

  async load(key: string): Promise<Versioned> {
    this.loads++;
    return this.rows.get(key) ?? { version: 0, text: "default" };
  }
}

class RecordingLogger implements Logger {
  readonly warnings: string[] = [];
  debug(): void {}
  info(): void {}
  warn(_fields: object, message: string): void {
    this.warnings.push(message);
  }
  error(): void {}
  child(): Logger {
    return this;
  }
}

/** One service instance's view: its own Redis connections, subscriber and cache. */
interface Instance {
  cache: TwoLevelCache<Versioned>;
  redis: Redis;
  subscriber: InvalidationSubscriber;
  subscriberConnection: Redis;
  outcomes: CacheOutcome[];
  logger: RecordingLogger;
}

describe("TwoLevelCache on Redis", () => {
  const prefix = `test:cache:${randomUUID()}:`;
  const channel = `${prefix}invalidations`;
  const admin = new Redis(localServices().redisUrl);
  const instances: Instance[] = [];

  afterAll(async () => {
    for (const instance of instances) {
      instance.cache.close();
      instance.subscriber.close();
      instance.redis.disconnect();
    }
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
  });

  async function instance(
    redisUrl = localServices().redisUrl,
    options: { ready?: boolean } = {},
  ): Promise<Instance> {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    // The service logs connection errors through its own listener; here they are expected.
    redis.on("error", () => undefined);
    const subscriberConnection = new Redis(redisUrl, { retryStrategy: () => 100 });
    const subscriber = new InvalidationSubscriber(subscriberConnection, new RecordingLogger());
    const outcomes: CacheOutcome[] = [];
    const logger = new RecordingLogger();
    const cache = new TwoLevelCache<Versioned>({
      keyPrefix: prefix,
      serializer: { serialize: JSON.stringify, deserialize: (text) => JSON.parse(text) as Versioned },
      versionOf: (value) => value.version,
      local: { maxEntries: 100, ttlMs: 60_000 },
      redisTtlMs: 60_000,
      redisTimeoutMs: 500,
      redis,
      subscriber,
      logger,
      onLookup: (outcome) => outcomes.push(outcome),
    });
    const created = { cache, redis, subscriber, subscriberConnection, outcomes, logger };
    instances.push(created);
    if (options.ready !== false) {
      expect(await eventually(async () => subscriber.isListening(channel), 5_000)).toBe(true);
    }
    return created;
  }

  async function write(table: Table, through: Instance, key: string, text: string): Promise<Versioned> {
    const next = { version: (table.rows.get(key)?.version ?? 0) + 1, text };
    table.rows.set(key, next);
    await through.cache.invalidate(key, next.version);
    return next;
  }

  it("answers from the database once, then from the local level, then from Redis for another instance", async () => {
    const table = new Table();
    const [a, b] = [await instance(), await instance()];
    const key = randomUUID();
    table.rows.set(key, { version: 3, text: "saved" });
    const load = () => table.load(key);
    expect(await a.cache.get(key, load)).toEqual({ version: 3, text: "saved" });
    expect(await a.cache.get(key, load)).toEqual({ version: 3, text: "saved" });
    expect(await b.cache.get(key, load)).toEqual({ version: 3, text: "saved" });
    expect(table.loads).toBe(1);
    expect(a.outcomes).toEqual(["miss", "local_hit"]);
    expect(b.outcomes).toEqual(["redis_hit"]);
    expect(await admin.get(`${prefix}{${key}}`)).toBe(`3:${JSON.stringify({ version: 3, text: "saved" })}`);
  });

  it("answers many keys at once, each from its level, loading all the misses in one call", async () => {
    const table = new Table();
    const [a, b] = [await instance(), await instance()];
    const keys = Array.from({ length: 50 }, () => randomUUID());
    for (const [index, key] of keys.entries()) table.rows.set(key, { version: 1, text: `row ${index}` });
    const calls: string[][] = [];
    const loadMany = async (missing: string[]) => {
      calls.push(missing);
      return new Map(await Promise.all(missing.map(async (key) => [key, await table.load(key)] as const)));
    };
    // Ten kept locally by a, twenty in Redis through b, twenty nowhere yet.
    for (const key of keys.slice(0, 10)) await a.cache.get(key, () => table.load(key));
    for (const key of keys.slice(10, 30)) await b.cache.get(key, () => table.load(key));
    table.loads = 0;
    a.outcomes.length = 0;
    const found = await a.cache.getMany(keys, loadMany);
    expect([...found.keys()]).toEqual(keys);
    expect([...found.values()].map((value) => value.text)).toEqual(keys.map((_, index) => `row ${index}`));
    expect(calls).toEqual([keys.slice(30)]);
    expect(table.loads).toBe(20);
    const counted = (outcome: CacheOutcome) => a.outcomes.filter((each) => each === outcome).length;
    expect([counted("local_hit"), counted("redis_hit"), counted("miss")]).toEqual([10, 20, 20]);
    // Filled: all fifty are now answered without the loader.
    expect(await b.cache.getMany(keys, loadMany)).toEqual(found);
    expect(calls).toHaveLength(1);
  });

  it("fails the keys of a batch whose loader fails, and of one it gave no value", async () => {
    const [a] = [await instance()];
    const [failing, forgotten] = [randomUUID(), randomUUID()];
    await expect(
      a.cache.getMany([failing], async () => {
        throw new Error("the database is down");
      }),
    ).rejects.toThrow("the database is down");
    await expect(a.cache.getMany([forgotten], async () => new Map())).rejects.toThrow(
      `the loader gave no value for the key ${forgotten}`,
    );
  });

  it("serves the new value at once after a write through the same instance", async () => {
    const table = new Table();
    const a = await instance();
    const key = randomUUID();
    const load = () => table.load(key);
    expect((await a.cache.get(key, load)).text).toBe("default");
    await write(table, a, key, "changed");
    expect(await a.cache.get(key, load)).toEqual({ version: 1, text: "changed" });
  });

  it("drops another instance's local copy when a write goes through this one", async () => {
    const table = new Table();
    const [a, b] = [await instance(), await instance()];
    const key = randomUUID();
    const load = () => table.load(key);
    await a.cache.get(key, load);
    await a.cache.get(key, load);
    expect(a.outcomes.at(-1)).toBe("local_hit");
    await write(table, b, key, "from b");
    expect(await eventually(async () => (await a.cache.get(key, load)).text === "from b", 2_000)).toBe(true);
    expect(a.outcomes.at(-1)).not.toBe("local_hit");
    expect(await a.cache.get(key, load)).toEqual({ version: 1, text: "from b" });
  });

  it("never puts back a value read before a write that was invalidated while the read went on", async () => {
    const table = new Table();
    const [a, b, c] = [await instance(), await instance(), await instance()];
    const key = randomUUID();
    table.rows.set(key, { version: 1, text: "old" });
    let release: () => void = () => undefined;
    const slowLoad = async () => {
      const read = await table.load(key);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return read;
    };
    const slowRead = a.cache.get(key, slowLoad);
    await eventually(async () => table.loads === 1, 2_000);
    await write(table, b, key, "new");
    release();
    expect(await slowRead).toEqual({ version: 1, text: "old" });

    const load = () => table.load(key);
    expect(await a.cache.get(key, load)).toEqual({ version: 2, text: "new" });
    expect(await c.cache.get(key, load)).toEqual({ version: 2, text: "new" });
    expect(await admin.get(`${prefix}{${key}}`)).toBe(`2:${JSON.stringify({ version: 2, text: "new" })}`);
  });

  it("never replaces a newer value in Redis with an older one loaded at the same time", async () => {
    const [a, b] = [await instance(), await instance()];
    const key = randomUUID();
    let release: () => void = () => undefined;
    let loading = false;
    const slowOlder = async () => {
      loading = true;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return { version: 4, text: "older" };
    };
    const slowRead = a.cache.get(key, slowOlder);
    await eventually(async () => loading, 2_000);
    await b.cache.get(key, async () => ({ version: 5, text: "newer" }));
    release();
    expect(await slowRead).toEqual({ version: 4, text: "older" });
    expect(await admin.get(`${prefix}{${key}}`)).toBe(`5:${JSON.stringify({ version: 5, text: "newer" })}`);
    expect(await a.cache.get(key, slowOlder)).toEqual({ version: 5, text: "newer" });
  });

  it("reads the database when Redis cannot be reached, and never fails the call", async () => {
    const table = new Table();
    const down = await instance(`redis://127.0.0.1:${await freePort()}`, { ready: false });
    const key = randomUUID();
    const load = () => table.load(key);
    expect(await down.cache.get(key, load)).toEqual({ version: 0, text: "default" });
    await write(table, down, key, "written while Redis is down");
    expect(await down.cache.get(key, load)).toEqual({ version: 1, text: "written while Redis is down" });
    expect(await down.cache.get(key, load)).toEqual({ version: 1, text: "written while Redis is down" });
    expect(table.loads).toBe(3);
    expect(down.outcomes).toEqual(["redis_error", "redis_error", "redis_error"]);
    expect(down.logger.warnings.length).toBeGreaterThan(0);
  });

  it("keeps nothing locally while the subscription is down, and catches up on invalidations when Redis is back", async () => {
    const table = new Table();
    const [a, b] = [await instance(), await instance()];
    const key = randomUUID();
    const load = () => table.load(key);
    await b.cache.get(key, load);

    a.redis.disconnect();
    a.subscriberConnection.disconnect();
    expect(await eventually(async () => !a.subscriber.isListening(channel), 2_000)).toBe(true);
    await write(table, a, key, "written by a during its outage");
    expect(await a.cache.get(key, load)).toEqual({ version: 1, text: "written by a during its outage" });
    expect(await a.cache.get(key, load)).toEqual({ version: 1, text: "written by a during its outage" });
    expect(a.outcomes).toEqual(["redis_error", "redis_error"]);

    // Redis never heard of the write; once a reaches it again, its pending invalidation goes out.
    await Promise.all([a.redis.connect(), a.subscriberConnection.connect()]);
    expect(
      await eventually(
        async () => (await b.cache.get(key, load)).text === "written by a during its outage",
        5_000,
      ),
    ).toBe(true);
    expect(await admin.get(`${prefix}{${key}}:floor`)).toBe("1");
    expect(await eventually(async () => a.subscriber.isListening(channel), 5_000)).toBe(true);
    await a.cache.get(key, load);
    expect(a.outcomes.at(-1)).toBe("redis_hit");
    await a.cache.get(key, load);
    expect(a.outcomes.at(-1)).toBe("local_hit");
  });
});
