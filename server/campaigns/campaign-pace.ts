import type { CampaignPace } from "../../core/campaigns/index.ts";
import type { SendRateLimiter } from "../../core/sending/index.ts";
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

  async take(campaignId: string, perSecond: number | null): Promise<void> {
    if (perSecond !== null) await this.acquire(`campaign:${campaignId}`, perSecond);
    await this.acquire("campaigns", this.totalPerSecond);
  }

  ceiling(perSecond: number | null): number {
    return perSecond === null ? this.totalPerSecond : Math.min(perSecond, this.totalPerSecond);
  }

  private async acquire(key: string, perSecond: number): Promise<void> {
    for (;;) {
      const waitMs = await this.limiter.tryAcquire(key, perSecond);
      if (waitMs === 0 || this.signal.aborted) return;
      await sleep(waitMs, this.signal);
    }
  }
}
