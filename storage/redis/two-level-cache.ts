import type { Redis } from "ioredis";
import { BoundedMap } from "../../core/bounded-map.ts";
import type { Logger } from "../../core/logger.ts";
import type { InvalidationSubscriber } from "./invalidation-subscriber.ts";
import { LocalLru } from "./local-lru.ts";
import { getPayload, invalidate, putIfNewer, type VersionedKeys } from "./versioned-scripts.ts";

export interface CacheSerializer<V> {
  serialize(value: V): string;
  deserialize(text: string): V;
}

/** How one lookup was answered, for the hit-rate metric. */
export type CacheOutcome = "local_hit" | "redis_hit" | "miss" | "redis_error";

export interface TwoLevelCacheOptions<V> {
  /** Prefixes every Redis key and the invalidation channel; change it when the serialized form changes. */
  keyPrefix: string;
  serializer: CacheSerializer<V>;
  /** The revision of a value: an older one never replaces a newer one. */
  versionOf(value: V): number;
  local: { maxEntries: number; ttlMs: number };
  redisTtlMs: number;
  /** How long one Redis command may take before the lookup goes to the database instead. */
  redisTimeoutMs: number;
  redis: Redis;
  subscriber: InvalidationSubscriber;
  logger: Logger;
  onLookup?: (outcome: CacheOutcome) => void;
}

// Invalidations that could not reach Redis, retried when it is back; beyond this many,
// the oldest are given up and their Redis values live out their TTL.
const MAX_PENDING_INVALIDATIONS = 10_000;
const WARN_INTERVAL_MS = 10_000;

/**
 * A read-through cache in two levels: a small in-process LRU with a short TTL, then
 * Redis with a longer one, then the loader (the database). A write invalidates both
 * levels on every instance: the Redis value is deleted and its "floor" raised to the
 * new version in one script that also publishes the key, and each instance drops its
 * local copy when the message arrives. Any Redis failure falls back to the loader.
 */
export class TwoLevelCache<V> {
  private readonly local: LocalLru<{ value: V }>;
  private readonly channel: string;
  // One more with every invalidation and every lost subscription: a lookup keeps its
  // value locally only when nothing was invalidated while it was loading.
  private epoch = 0;
  private readonly pending = new BoundedMap<string, number>(MAX_PENDING_INVALIDATIONS);
  private lastWarning = 0;
  private readonly retryPending = () => void this.flushPending();

  constructor(private readonly options: TwoLevelCacheOptions<V>) {
    this.local = new LocalLru(options.local.maxEntries, options.local.ttlMs);
    this.channel = `${options.keyPrefix}invalidations`;
    options.subscriber.listen(this.channel, {
      onMessage: (message) => this.dropLocal(keyOfMessage(message)),
      onReset: () => {
        this.epoch++;
        this.local.clear();
      },
    });
    options.redis.on("ready", this.retryPending);
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const local = this.local.get(key);
    if (local) {
      this.count("local_hit");
      return local.value;
    }
    // Without a live subscription, invalidations from other instances would be missed.
    const mayKeepLocally = this.options.subscriber.isListening(this.channel);
    const epoch = this.epoch;
    const { value, fresh } = await this.lookup(key, load);
    if (fresh && mayKeepLocally && epoch === this.epoch) this.local.set(key, { value });
    return value;
  }

  /**
   * Many keys at once, each as `get` would answer it: their Redis commands leave in one turn
   * (one write on an auto-pipelined client), and the keys that miss are loaded together by
   * `loadMany`, which must answer every key it is given.
   */
  async getMany(
    keys: readonly string[],
    loadMany: (keys: string[]) => Promise<Map<string, V>>,
  ): Promise<Map<string, V>> {
    // Every key either is answered by a level or asks for its load; once all have, the loads
    // that were asked for go to loadMany together.
    const waiting = new Map<string, LoadWaiter<V>[]>();
    let settled = 0;
    const settle = () => {
      if (++settled === keys.length && waiting.size > 0) void loadTogether(loadMany, waiting);
    };
    const values = await Promise.all(
      keys.map((key) => {
        let asked = false;
        const load = () =>
          new Promise<V>((resolve, reject) => {
            asked = true;
            waiting.set(key, [...(waiting.get(key) ?? []), { resolve, reject }]);
            settle();
          });
        return this.get(key, load).finally(() => {
          if (!asked) settle();
        });
      }),
    );
    return new Map(keys.map((key, index) => [key, values[index] as V]));
  }

  /** Call after the write of `version` committed. Never throws: a failure is retried when Redis is back. */
  async invalidate(key: string, version: number): Promise<void> {
    this.dropLocal(key);
    try {
      await this.command((redis) =>
        invalidate(
          redis,
          this.keys(key),
          version,
          this.options.redisTtlMs,
          this.channel,
          JSON.stringify({ key }),
        ),
      );
      this.pending.delete(key);
    } catch (error) {
      this.warn(error, "invalidating a cached value failed; retrying when Redis is back");
      this.remember(key, version);
    }
  }

  close(): void {
    this.options.redis.off("ready", this.retryPending);
  }

  /** `fresh` is false when the value must not be kept locally: a newer one is already known. */
  private async lookup(key: string, load: () => Promise<V>): Promise<{ value: V; fresh: boolean }> {
    // Its Redis value may predate a write whose invalidation has not reached Redis yet.
    if (this.pending.has(key)) {
      this.count("redis_error");
      return { value: await load(), fresh: false };
    }
    let payload: string | undefined;
    try {
      payload = await this.command((redis) => getPayload(redis, this.keys(key)));
    } catch (error) {
      this.warn(error, "reading the cache failed; reading the database");
      this.count("redis_error");
      return { value: await load(), fresh: false };
    }
    if (payload !== undefined) {
      const cached = this.deserialize(payload);
      if (cached) {
        this.count("redis_hit");
        return { value: cached.value, fresh: true };
      }
    }
    this.count("miss");
    const value = await load();
    try {
      const stored = await this.command((redis) =>
        putIfNewer(
          redis,
          this.keys(key),
          this.options.versionOf(value),
          this.options.serializer.serialize(value),
          this.options.redisTtlMs,
        ),
      );
      return { value, fresh: stored };
    } catch (error) {
      this.warn(error, "filling the cache failed");
      return { value, fresh: false };
    }
  }

  private deserialize(payload: string): { value: V } | undefined {
    try {
      return { value: this.options.serializer.deserialize(payload) };
    } catch (error) {
      // Left by an older release, say: treated as a miss, and overwritten by the fill.
      this.warn(error, "a cached value could not be read; reading the database");
      return undefined;
    }
  }

  /** Without a key (a message we cannot read), everything local goes. */
  private dropLocal(key: string | undefined): void {
    this.epoch++;
    if (key === undefined) this.local.clear();
    else this.local.delete(key);
  }

  private keys(key: string): VersionedKeys {
    // The braces make both keys hash to the same Redis Cluster slot, as a script needs.
    const value = `${this.options.keyPrefix}{${key}}`;
    return { value, floor: `${value}:floor` };
  }

  private async command<T>(run: (redis: Redis) => Promise<T>): Promise<T> {
    const { redis, redisTimeoutMs } = this.options;
    // Commands to a disconnected client would wait in its offline queue; the database answers sooner.
    if (redis.status !== "ready") throw new Error(`Redis is ${redis.status}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer within ${redisTimeoutMs} ms`)),
        redisTimeoutMs,
      );
    });
    try {
      return await Promise.race([run(redis), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private remember(key: string, version: number): void {
    const newest = Math.max(version, this.pending.get(key) ?? version);
    this.pending.set(key, newest);
  }

  private async flushPending(): Promise<void> {
    const due = [...this.pending.entries()];
    for (const [key, version] of due) await this.invalidate(key, version);
  }

  private count(outcome: CacheOutcome): void {
    this.options.onLookup?.(outcome);
  }

  // During an outage every lookup fails the same way: one line per interval is enough.
  private warn(error: unknown, message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_INTERVAL_MS) return;
    this.lastWarning = now;
    this.options.logger.warn({ err: error, cache: this.options.keyPrefix }, message);
  }
}

interface LoadWaiter<V> {
  resolve(value: V): void;
  reject(error: unknown): void;
}

/** The loads `getMany` gathered, in one call of `loadMany`, each waiter given its key's value. */
async function loadTogether<V>(
  loadMany: (keys: string[]) => Promise<Map<string, V>>,
  waiting: Map<string, LoadWaiter<V>[]>,
): Promise<void> {
  let loaded: Map<string, V>;
  try {
    loaded = await loadMany([...waiting.keys()]);
  } catch (error) {
    for (const waiters of waiting.values()) for (const waiter of waiters) waiter.reject(error);
    return;
  }
  for (const [key, waiters] of waiting) {
    for (const waiter of waiters) {
      if (loaded.has(key)) waiter.resolve(loaded.get(key) as V);
      else waiter.reject(new Error(`the loader gave no value for the key ${key}`));
    }
  }
}

function keyOfMessage(message: string): string | undefined {
  try {
    const parsed = JSON.parse(message) as { key?: unknown };
    return typeof parsed.key === "string" ? parsed.key : undefined;
  } catch {
    return undefined;
  }
}
