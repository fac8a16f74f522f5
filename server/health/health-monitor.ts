import type { Logger } from "../../core/logger.ts";
import { redactErrorText } from "../../core/personal-data.ts";
import type { DependencyProbe } from "./dependency-probes.ts";

export type HealthState = "serving" | "not_serving";

export interface HealthReport {
  /** The whole service: serving only when every dependency is and no shutdown has begun. */
  overall: HealthState;
  /** Each dependency's state and, when not serving, why: redacted error text, for admins and logs. */
  dependencies: Map<string, { state: HealthState; reason?: string }>;
}

/**
 * Asks each dependency with a deadline and remembers the answer for a moment, so a
 * burst of readiness probes costs one round of checks.
 */
export class HealthMonitor {
  private draining = false;
  private lastReport?: { at: number; report: Promise<HealthReport> };
  private readonly loggedStates = new Map<string, HealthState>();

  constructor(
    private readonly probes: DependencyProbe[],
    private readonly options: { timeoutMs: number; cacheMs: number; logger: Logger },
  ) {}

  get names(): string[] {
    return this.probes.map((probe) => probe.name);
  }

  /** From now on the service reports not serving, so load balancers stop sending work. */
  beginDraining(): void {
    this.draining = true;
    this.lastReport = undefined;
  }

  report(): Promise<HealthReport> {
    const now = Date.now();
    if (this.lastReport && now - this.lastReport.at < this.options.cacheMs) return this.lastReport.report;
    const report = this.checkAll();
    this.lastReport = { at: now, report };
    return report;
  }

  private async checkAll(): Promise<HealthReport> {
    const results = await Promise.all(this.probes.map((probe) => this.checkOne(probe)));
    const dependencies = new Map(results.map((result) => [result.name, result]));
    const allServing = results.every((result) => result.state === "serving");
    return { overall: allServing && !this.draining ? "serving" : "not_serving", dependencies };
  }

  private async checkOne(
    probe: DependencyProbe,
  ): Promise<{ name: string; state: HealthState; reason?: string }> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let outcome: { name: string; state: HealthState; reason?: string };
    try {
      await Promise.race([probe.check(signal), rejectOnAbort(signal)]);
      outcome = { name: probe.name, state: "serving" };
    } catch (error) {
      const reason = signal.aborted
        ? `no answer within ${this.options.timeoutMs} ms`
        : redactErrorText(errorMessage(error));
      outcome = { name: probe.name, state: "not_serving", reason };
    }
    this.logChange(outcome);
    return outcome;
  }

  private logChange(outcome: { name: string; state: HealthState; reason?: string }): void {
    const previous = this.loggedStates.get(outcome.name);
    this.loggedStates.set(outcome.name, outcome.state);
    if (previous === outcome.state || (previous === undefined && outcome.state === "serving")) return;
    const fields = { dependency: outcome.name, state: outcome.state, reason: outcome.reason };
    if (outcome.state === "serving") this.options.logger.info(fields, "dependency is back");
    else this.options.logger.warn(fields, "dependency is not serving");
  }
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorMessage(error.errors[0]);
  return error instanceof Error ? error.message || error.name : String(error);
}
