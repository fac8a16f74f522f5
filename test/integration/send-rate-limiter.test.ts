import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisSendRateLimiter } from "../../storage/index.ts";
import { localServices } from "../support/services.ts";

// The shared rate limit against the real Redis: two limiters on their own connections stand
// for two workers sending to one provider as fast as they are let.
const connections = [new Redis(localServices().redisUrl), new Redis(localServices().redisUrl)];
afterAll(() => Promise.all(connections.map((redis) => redis.quit())));

describe("RedisSendRateLimiter", () => {
  it("keeps two workers together within the provider's rate, and tells a refused sender how long to wait", async () => {
    const provider = `provider-${randomUUID()}`;
    const perSecond = 50;
    const limiters = connections.map((redis) => new RedisSendRateLimiter(redis));
    const grantedAt: number[] = [];
    const waits: number[] = [];
    const started = Date.now();
    const windowMs = 2_000;
    await Promise.all(
      limiters.flatMap((limiter) =>
        Array.from({ length: 4 }, async () => {
          while (Date.now() - started < windowMs) {
            const wait = await limiter.tryAcquire(provider, perSecond);
            if (wait === 0) grantedAt.push(Date.now() - started);
            else {
              waits.push(wait);
              await new Promise((r) => setTimeout(r, wait));
            }
          }
        }),
      ),
    );
    // 100 in two seconds, plus the burst of a tenth of a second (5) at the start.
    expect(grantedAt.length).toBeGreaterThanOrEqual(90);
    expect(grantedAt.length).toBeLessThanOrEqual(perSecond * (windowMs / 1000) + 5 + 1);
    for (let second = 0; second < 2; second++) {
      const inSecond = grantedAt.filter((at) => at >= second * 1000 && at < (second + 1) * 1000).length;
      expect(inSecond).toBeLessThanOrEqual(perSecond + 5 + 1);
    }
    expect(waits.length).toBeGreaterThan(0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(1_000 / perSecond + 1);
  });

  it("counts each provider apart", async () => {
    const limiter = new RedisSendRateLimiter(connections[0] as Redis);
    const [a, b] = [`a-${randomUUID()}`, `b-${randomUUID()}`];
    expect(await limiter.tryAcquire(a, 1)).toBe(0);
    expect(await limiter.tryAcquire(a, 1)).toBeGreaterThan(900);
    expect(await limiter.tryAcquire(b, 1)).toBe(0);
  });

  it("counts a burst taken at once as that many sends", async () => {
    const limiter = new RedisSendRateLimiter(connections[0] as Redis);
    const key = `burst-${randomUUID()}`;
    // 100/s: a burst of 10 goes at once; the next send waits for the 10 to have been spread out.
    expect(await limiter.tryAcquire(key, 100, 10)).toBe(0);
    const wait = await limiter.tryAcquire(key, 100, 1);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(11);
    // The 10 are spread over 100 ms; a margin past it, since timers and Redis's clock round.
    await new Promise((resolve) => setTimeout(resolve, 130));
    expect(await limiter.tryAcquire(key, 100, 10)).toBe(0);
  });
});
