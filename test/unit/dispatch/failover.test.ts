import { describe, expect, it } from "vitest";
import { CircuitBreaker, ProviderGates, retryDelayMs } from "../../../dispatch/failover/index.ts";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("CircuitBreaker", () => {
  it("opens after the failures in a row, probes once when its time is up, and closes on the probe's success", () => {
    const time = clock();
    const changes: string[] = [];
    const breaker = new CircuitBreaker({ failuresToOpen: 3, openMs: 10_000 }, time.now, (from, to) =>
      changes.push(`${from}->${to}`),
    );
    for (let i = 0; i < 2; i++) {
      expect(breaker.tryAcquire()).toBe(true);
      breaker.failed();
    }
    expect(breaker.state()).toBe("closed");
    breaker.tryAcquire();
    breaker.failed();
    expect(breaker.state()).toBe("open");
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.availableAt()).toBe(time.now() + 10_000);

    time.advance(10_000);
    expect(breaker.state()).toBe("half_open");
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.succeeded();
    expect(breaker.state()).toBe("closed");
    expect(breaker.tryAcquire()).toBe(true);
    expect(changes).toEqual(["closed->open", "half_open->closed"]);
  });

  it("opens again at once when its probe fails, and a success in between resets the count", () => {
    const time = clock();
    const breaker = new CircuitBreaker({ failuresToOpen: 2, openMs: 1_000 }, time.now);
    breaker.failed();
    breaker.succeeded();
    breaker.failed();
    expect(breaker.state()).toBe("closed");
    breaker.failed();
    expect(breaker.state()).toBe("open");
    time.advance(1_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failed();
    expect(breaker.state()).toBe("open");
    expect(breaker.availableAt()).toBe(time.now() + 1_000);
  });

  it("gives the probe back on a refusal, which tells nothing of the provider's health", () => {
    const time = clock();
    const breaker = new CircuitBreaker({ failuresToOpen: 1, openMs: 1_000 }, time.now);
    breaker.failed();
    time.advance(1_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.released();
    expect(breaker.state()).toBe("half_open");
    expect(breaker.tryAcquire()).toBe(true);
  });
});

describe("retryDelayMs", () => {
  const settings = { initialMs: 1_000, maxMs: 60_000 };

  it("doubles each round up to its ceiling, between half and all of it", () => {
    expect(retryDelayMs(1, settings, () => 0)).toBe(500);
    expect(retryDelayMs(1, settings, () => 0.999_999)).toBe(1_000);
    expect(retryDelayMs(4, settings, () => 0.999_999)).toBe(8_000);
    expect(retryDelayMs(30, settings, () => 0)).toBe(30_000);
    expect(retryDelayMs(30, settings, () => 0.999_999)).toBe(60_000);
  });

  it("never waits less than the provider's Retry-After", () => {
    expect(retryDelayMs(1, settings, () => 0, 7_000)).toBe(7_000);
  });
});

describe("ProviderGates", () => {
  it("waits for a near slot, answers the wait of a far one without waiting, and sends on when the limiter fails", async () => {
    const answers = [20, 0, 5_000, Number.NaN];
    const errors: string[] = [];
    const gates = new ProviderGates({
      byProvider: { limited: { ratePerSecond: 10 } },
      limiter: {
        async tryAcquire(provider, perSecond) {
          expect([provider, perSecond]).toEqual(["limited", 10]);
          const answer = answers.shift() as number;
          if (Number.isNaN(answer)) throw new Error("redis is down");
          return answer;
        },
      },
      maxSlotWaitMs: 100,
      onLimiterError: (provider) => errors.push(provider),
    });
    const started = Date.now();
    expect(await gates.awaitSlot("limited")).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    expect(await gates.awaitSlot("limited")).toBe(5_000);
    expect(await gates.awaitSlot("limited")).toBe(0);
    expect(errors).toEqual(["limited"]);
    expect(await gates.awaitSlot("unlimited")).toBe(0);
    expect(answers).toEqual([]);
  });
});
