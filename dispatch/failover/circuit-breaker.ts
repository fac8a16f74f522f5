/** How a breaker decides; the same for every provider unless configured otherwise. */
export interface BreakerSettings {
  /** Transient failures in a row that open it. */
  failuresToOpen: number;
  /** How long it stays open before it lets one probe through. */
  openMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = { failuresToOpen: 5, openMs: 30_000 };

export type BreakerState = "closed" | "open" | "half_open";

/**
 * One provider's circuit breaker, in this process. Closed, every send goes through; after
 * `failuresToOpen` transient failures in a row it opens and sends skip the provider, so a
 * dead primary costs one look instead of a timeout per message. Once `openMs` has passed it
 * is half open: one send at a time probes it, a success closes it, a failure opens it again.
 * Permanent failures (a refused address) say nothing of the provider's health and are not
 * counted.
 */
export class CircuitBreaker {
  private failuresInRow = 0;
  private openedAt: number | undefined;
  private probing = false;

  constructor(
    private readonly settings: BreakerSettings,
    private readonly now: () => number = Date.now,
    private readonly onChange?: (from: BreakerState, to: BreakerState) => void,
  ) {}

  state(): BreakerState {
    if (this.openedAt === undefined) return "closed";
    return this.now() - this.openedAt >= this.settings.openMs ? "half_open" : "open";
  }

  /** When a closed breaker would let a send through again: now, or when it may be probed. */
  availableAt(): number {
    return this.openedAt === undefined ? this.now() : this.openedAt + this.settings.openMs;
  }

  /** Whether a send may go to the provider now; true takes the half-open probe, which `succeeded` or `failed` gives back. */
  tryAcquire(): boolean {
    switch (this.state()) {
      case "closed":
        return true;
      case "open":
        return false;
      case "half_open":
        if (this.probing) return false;
        this.probing = true;
        return true;
    }
  }

  succeeded(): void {
    const before = this.state();
    this.failuresInRow = 0;
    this.openedAt = undefined;
    this.probing = false;
    if (before !== "closed") this.onChange?.(before, "closed");
  }

  failed(): void {
    const before = this.state();
    this.failuresInRow++;
    if (this.probing || (before === "closed" && this.failuresInRow >= this.settings.failuresToOpen)) {
      this.openedAt = this.now();
      this.onChange?.(before, "open");
    }
    this.probing = false;
  }

  /** A send that told nothing of the provider's health (a permanent refusal) hands back the probe. */
  released(): void {
    this.probing = false;
  }
}
