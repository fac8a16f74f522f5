import { describe, expect, it } from "vitest";
import { LocalLru } from "../../../../storage/redis/local-lru.ts";

describe("LocalLru", () => {
  it("forgets an entry once its TTL has passed", () => {
    let now = 1_000;
    const lru = new LocalLru<string>(10, 500, () => now);
    lru.set("a", "1");
    now += 499;
    expect(lru.get("a")).toBe("1");
    now += 1;
    expect(lru.get("a")).toBeUndefined();
  });

  it("drops the least recently used entry when full", () => {
    const lru = new LocalLru<string>(2, 60_000);
    lru.set("a", "1");
    lru.set("b", "2");
    expect(lru.get("a")).toBe("1");
    lru.set("c", "3");
    expect(lru.get("b")).toBeUndefined();
    expect(lru.get("a")).toBe("1");
    expect(lru.get("c")).toBe("3");
  });

  it("deletes one entry or all of them", () => {
    const lru = new LocalLru<string>(10, 60_000);
    lru.set("a", "1");
    lru.set("b", "2");
    lru.delete("a");
    expect(lru.get("a")).toBeUndefined();
    expect(lru.get("b")).toBe("2");
    lru.clear();
    expect(lru.get("b")).toBeUndefined();
  });
});
