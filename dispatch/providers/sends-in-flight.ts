import type { DeliveryOutcome } from "../../core/sending/index.ts";

/**
 * The sends a provider has under way, so that closing it lets them finish while new ones are
 * turned away as retryable (another provider, or a later try, takes them).
 */
export class SendsInFlight {
  private readonly sends = new Set<Promise<DeliveryOutcome>>();
  private closing = false;

  constructor(private readonly provider: string) {}

  /** `start`'s send, kept until it settles; after `drain`, a retryable failure at once. */
  track(start: () => Promise<DeliveryOutcome>): Promise<DeliveryOutcome> {
    if (this.closing) {
      return Promise.resolve({ status: "failed", reason: `${this.provider} is closing`, retryable: true });
    }
    const sending = start();
    this.sends.add(sending);
    // The outcome, or what was thrown, goes to the caller; the set only has to know that it settled.
    const settled = () => this.sends.delete(sending);
    sending.then(settled, settled);
    return sending;
  }

  /** Turns new sends away and waits for those under way. */
  async drain(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.sends]);
  }
}
