import type { CampaignPace } from "../../core/campaigns/index.ts";
import { burstOf, type SendRateLimiter } from "../../core/sending/index.ts";
import { sleep } from "../sleep.ts";

/**
 * Campaign sends paced by the shared GCRA limiter: a key per campaign for its own rate, and
 * one for all campaigns together, so that every worker counts against the same limits.
 */
export class LimitedCampaignPace implements CampaignPace {
  constructor(
    private readonly limiter: SendRateLimiter,
    private readonly totalPerSecond: number,
    private readonly signal: AbortSignal,
  ) {}

  async take(campaignId: string, perSecond: number | null, count: number): Promise<void> {
    if (perSecond !== null) await this.acquire(`campaign:${campaignId}`, perSecond, count);
    await this.acquire("campaigns", this.totalPerSecond, count);
  }

  ceiling(perSecond: number | null): number {
    return perSecond === null ? this.totalPerSecond : Math.min(perSecond, this.totalPerSecond);
  }

  /** `count` sends, a burst at a time: one round trip to Redis a burst rather than a send. */
  private async acquire(key: string, perSecond: number, count: number): Promise<void> {
    const burst = burstOf(perSecond);
    for (let left = count; left > 0 && !this.signal.aborted; ) {
      const taken = Math.min(burst, left);
      const waitMs = await this.limiter.tryAcquire(key, perSecond, taken);
      if (waitMs === 0) left -= taken;
      else await sleep(waitMs, this.signal);
    }
  }
}
