import { describe, expect, it } from "vitest";
import { BoundedMap } from "../../../core/bounded-map.ts";

describe("BoundedMap", () => {
  it("forgets the entry set longest ago once it holds more than its limit", () => {
    const map = new BoundedMap<string, number>(2);
    map.set("a", 1);
    map.set("b", 2);
    map.set("c", 3);
    expect([...map.entries()].map(([key]) => key)).toEqual(["b", "c"]);
    expect(map.get("a")).toBeUndefined();
    expect(map.size).toBe(2);
  });

  it("makes a key set again the newest", () => {
    const map = new BoundedMap<string, number>(2);
    map.set("a", 1);
    map.set("b", 2);
    map.set("a", 10);
    map.set("c", 3);
    expect([...map.entries()]).toEqual([
      ["a", 10],
      ["c", 3],
    ]);
  });

  it("evicts in the order a plain Map's first key gives, over a long mix of sets, re-sets, deletes and clears", () => {
    const map = new BoundedMap<number, number>(100);
    const reference = new Map<number, number>();
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 50_000; step++) {
      const key = random(400);
      const action = random(100);
      if (action < 5) {
        map.delete(key);
        reference.delete(key);
      } else if (action === 5 && step % 7 === 0) {
        map.clear();
        reference.clear();
      } else {
        map.set(key, step);
        reference.delete(key);
        reference.set(key, step);
        if (reference.size > 100) reference.delete(reference.keys().next().value as number);
      }
    }
    expect([...map.entries()]).toEqual([...reference.entries()]);
  });

  it("refuses a limit below one", () => {
    expect(() => new BoundedMap(0)).toThrow(/at least one entry/);
  });
});
