import type { Logger } from "../core/logger.ts";
import type { Template } from "../core/templates/index.ts";
import {
  type CachedPreferences,
  type InvalidationSubscriber,
  preferenceSerializer,
  TwoLevelCache,
  templateSerializer,
  versionOfPreferences,
  versionOfTemplate,
} from "../storage/index.ts";
import type { Infrastructure } from "./infrastructure.ts";
import type { Metrics } from "./metrics.ts";

/**
 * Preferences are read for every notification and change rarely. The local level
 * absorbs bursts for one user (a campaign fan-out) and is short because it is the
 * one a lost invalidation message could leave stale; Redis keeps the rest for
 * minutes. The "v1" is the serialized form: a new form takes a new prefix.
 */
export function preferenceCache(
  infra: Infrastructure,
  subscriber: InvalidationSubscriber,
  metrics: Metrics,
  logger: Logger,
): TwoLevelCache<CachedPreferences> {
  return new TwoLevelCache({
    keyPrefix: "notification:preferences:v1:",
    serializer: preferenceSerializer,
    versionOf: versionOfPreferences,
    local: { maxEntries: 10_000, ttlMs: 5_000 },
    redisTtlMs: 10 * 60_000,
    redisTimeoutMs: 250,
    redis: infra.redis,
    subscriber,
    logger,
    onLookup: (outcome) => metrics.cacheLookups.inc({ cache: "preferences", outcome }),
  });
}

/**
 * Templates are read for every send and written by a few people a day: both levels
 * can hold them longer than preferences. Invalidation keeps them right on every
 * instance; the local TTL only bounds a lost invalidation message.
 */
export function templateCache(
  infra: Infrastructure,
  subscriber: InvalidationSubscriber,
  metrics: Metrics,
  logger: Logger,
): TwoLevelCache<Template> {
  return new TwoLevelCache({
    keyPrefix: "notification:templates:v1:",
    serializer: templateSerializer,
    versionOf: versionOfTemplate,
    local: { maxEntries: 2_000, ttlMs: 30_000 },
    redisTtlMs: 60 * 60_000,
    redisTimeoutMs: 250,
    redis: infra.redis,
    subscriber,
    logger,
    onLookup: (outcome) => metrics.cacheLookups.inc({ cache: "templates", outcome }),
  });
}
