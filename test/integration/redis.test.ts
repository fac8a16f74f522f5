import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { localServices } from "../support/services.ts";

describe("Redis", () => {
  const redis = new Redis(localServices().redisUrl);
  const subscriber = new Redis(localServices().redisUrl);
  const prefix = `test:${randomUUID()}:`;

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    subscriber.disconnect();
  });

  it("stores and reads back a value, and expires it", async () => {
    await redis.set(`${prefix}greeting`, "привет", "PX", 200);
    expect(await redis.get(`${prefix}greeting`)).toBe("привет");
    expect(await redis.pttl(`${prefix}greeting`)).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await redis.get(`${prefix}greeting`)).toBeNull();
  });

  it("counts atomically across concurrent increments", async () => {
    await Promise.all(Array.from({ length: 50 }, () => redis.incr(`${prefix}counter`)));
    expect(await redis.get(`${prefix}counter`)).toBe("50");
  });

  it("delivers a published message to a subscriber", async () => {
    const channel = `${prefix}channel`;
    await subscriber.subscribe(channel);
    const received = new Promise<string>((resolve) =>
      subscriber.once("message", (_channel, message) => resolve(message)),
    );
    await redis.publish(channel, "hello");
    expect(await received).toBe("hello");
  });

  it("is Redis 7 or newer", async () => {
    const info = await redis.info("server");
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1]);
    expect(major).toBeGreaterThanOrEqual(7);
  });
});
