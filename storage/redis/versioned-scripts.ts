import type { Redis } from "ioredis";
import { runScript, script } from "./lua-scripts.ts";

// Values are stored as "<version>:<payload>". Beside each value, a "floor" key keeps
// the version of the last write invalidated for it: a reader that loaded an older
// version before that write must not put it back.

/** KEYS: value, floor. ARGV: version, "<version>:<payload>", ttl ms. 1 when stored. */
const PUT_IF_NEWER = script(`
local version = tonumber(ARGV[1])
local floor = tonumber(redis.call('GET', KEYS[2]) or '-1')
if version < floor then return 0 end
local current = redis.call('GET', KEYS[1])
if current then
  local currentVersion = tonumber(string.match(current, '^(%-?%d+):'))
  if currentVersion and currentVersion > version then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`);

/** KEYS: value, floor. ARGV: version, floor ttl ms, channel, message. */
const INVALIDATE = script(`
local version = tonumber(ARGV[1])
local floor = tonumber(redis.call('GET', KEYS[2]) or '-1')
if version > floor then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`);

export interface VersionedKeys {
  value: string;
  floor: string;
}

export async function putIfNewer(
  redis: Redis,
  keys: VersionedKeys,
  version: number,
  payload: string,
  ttlMs: number,
): Promise<boolean> {
  const stored = await runScript(
    redis,
    PUT_IF_NEWER,
    [keys.value, keys.floor],
    [String(version), `${version}:${payload}`, String(ttlMs)],
  );
  return stored === 1;
}

/** Deletes the value, raises its floor to `version` and publishes `message`, atomically. */
export async function invalidate(
  redis: Redis,
  keys: VersionedKeys,
  version: number,
  floorTtlMs: number,
  channel: string,
  message: string,
): Promise<void> {
  await runScript(
    redis,
    INVALIDATE,
    [keys.value, keys.floor],
    [String(version), String(floorTtlMs), channel, message],
  );
}

/** The payload of a stored "<version>:<payload>", or undefined when nothing is stored. */
export async function getPayload(redis: Redis, keys: VersionedKeys): Promise<string | undefined> {
  const stored = await redis.get(keys.value);
  if (stored === null) return undefined;
  return stored.slice(stored.indexOf(":") + 1);
}
