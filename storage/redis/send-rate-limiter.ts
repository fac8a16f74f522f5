import type { Redis } from "ioredis";
import { burstOf, type SendRateLimiter } from "../../core/sending/index.ts";
import { runScript, script } from "./lua-scripts.ts";

/**
 * GCRA over one key per provider: the key holds the theoretical arrival time of the next
 * send, in microseconds of the Redis clock, so every worker counts against one clock however
 * theirs drift. KEYS: the provider's key. ARGV: microseconds between sends, burst tolerance
 * in microseconds, sends asked for. Answers 0 when they may go (and counts them), else the
 * microseconds to wait.
 */
const TRY_ACQUIRE = script(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat + (count - 1) * interval - tolerance - now
if wait > 0 then return wait end
local next = tat + count * interval
redis.call('SET', KEYS[1], string.format('%d', next), 'PX', math.ceil((next - now) / 1000) + 1000)
return 0
`);

/**
 * Sends per second to each provider, shared by every worker through Redis. A burst of a
 * tenth of a second's worth may go at once, so that a batch's concurrent sends are not
 * spread out to single file; over any second the rate stays within its limit plus that burst.
 */
export class RedisSendRateLimiter implements SendRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix = "notification:send-rate:",
  ) {}

  async tryAcquire(provider: string, perSecond: number, count = 1): Promise<number> {
    const interval = Math.round(1_000_000 / perSecond);
    const burst = burstOf(perSecond);
    const waitMicros = Number(
      await runScript(
        this.redis,
        TRY_ACQUIRE,
        [`${this.keyPrefix}${provider}`],
        [String(interval), String(interval * (burst - 1)), String(count)],
      ),
    );
    return waitMicros === 0 ? 0 : Math.max(1, Math.ceil(waitMicros / 1000));
  }
}
