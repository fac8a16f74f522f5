import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { sleep } from "../../../server/sleep.ts";

describe("sleep", () => {
  it("leaves no abort listener behind however often it sleeps on one signal", async () => {
    const controller = new AbortController();
    for (let round = 0; round < 50; round++) await sleep(1, controller.signal);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("ends early, without an error, when the signal aborts", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const sleeping = sleep(10_000, controller.signal);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    controller.abort();
    await sleeping;
    expect(performance.now() - started).toBeLessThan(1_000);
    await sleep(10_000, controller.signal);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
