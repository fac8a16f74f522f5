import { setTimeout as delay } from "node:timers/promises";
import type { SendRateLimiter } from "../../core/sending/index.ts";
import {
  type BreakerSettings,
  type BreakerState,
  CircuitBreaker,
  DEFAULT_BREAKER_SETTINGS,
} from "./circuit-breaker.ts";

export interface ProviderGateSettings {
  breaker?: BreakerSettings;
  /** Sends per second the provider takes from all of our workers together; none: no limit. */
  ratePerSecond?: number;
}

export interface ProviderGatesOptions {
  byProvider?: Record<string, ProviderGateSettings>;
  breaker?: BreakerSettings;
  limiter?: SendRateLimiter;
  /** A send waits this long at most for its rate slot; longer, the message tries another provider or waits its retry. */
  maxSlotWaitMs?: number;
  onBreakerChange?: (provider: string, from: BreakerState, to: BreakerState) => void;
  /** The limiter could not be asked (Redis down): the send goes on unlimited, the provider's own 429 the backstop. */
  onLimiterError?: (provider: string, error: unknown) => void;
  now?: () => number;
}

/** What stands between the dispatcher and each provider: its circuit breaker and its shared rate limit. */
export class ProviderGates {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly now: () => number;

  constructor(private readonly options: ProviderGatesOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  breakerOf(provider: string): CircuitBreaker {
    let breaker = this.breakers.get(provider);
    if (!breaker) {
      const settings =
        this.options.byProvider?.[provider]?.breaker ?? this.options.breaker ?? DEFAULT_BREAKER_SETTINGS;
      const onChange = this.options.onBreakerChange;
      breaker = new CircuitBreaker(
        settings,
        this.now,
        onChange && ((from, to) => onChange(provider, from, to)),
      );
      this.breakers.set(provider, breaker);
    }
    return breaker;
  }

  /**
   * Waits for the provider's rate slot when it comes within maxSlotWaitMs and answers 0;
   * otherwise answers how long it would have been, having taken nothing.
   */
  async awaitSlot(provider: string): Promise<number> {
    const perSecond = this.options.byProvider?.[provider]?.ratePerSecond;
    const limiter = this.options.limiter;
    if (!perSecond || !limiter) return 0;
    const maxWaitMs = this.options.maxSlotWaitMs ?? 1_000;
    const giveUpAt = this.now() + maxWaitMs;
    for (;;) {
      let waitMs: number;
      try {
        waitMs = await limiter.tryAcquire(provider, perSecond);
      } catch (error) {
        this.options.onLimiterError?.(provider, error);
        return 0;
      }
      if (waitMs === 0) return 0;
      if (this.now() + waitMs > giveUpAt) return waitMs;
      await delay(waitMs);
    }
  }

  /** Each provider's breaker as this process sees it, for metrics, /readyz and admins. */
  states(): { provider: string; state: BreakerState }[] {
    return [...this.breakers].map(([provider, breaker]) => ({ provider, state: breaker.state() }));
  }
}
