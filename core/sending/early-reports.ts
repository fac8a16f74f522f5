import type { Logger } from "../logger.ts";
import type { FeedbackOutcome, ProviderFeedback } from "./provider-feedback.ts";
import type { ProviderReport } from "./provider-report.ts";

// About a minute in all: long enough for a dispatcher that crashed before recording the send
// to have its job redelivered and recorded.
const RETRY_DELAYS_MS = [100, 250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000];
// Reports waiting for a later try at most: reports of messages that are truly not ours (another
// system's, rows removed since) must not pile up.
const MAX_WAITING = 10_000;

export interface EarlyReportsDeps {
  feedback: Pick<ProviderFeedback, "apply">;
  logger: Logger;
  /** How long to wait before each next try of reports whose message is not recorded as sent yet. */
  retryDelaysMs?: readonly number[];
}

/**
 * Provider feedback that is patient with reports arriving before their message is recorded as
 * sent: a provider's callback can come back before the dispatcher has written the send's answer
 * (SMS.ru calls within a fraction of a second), and an in-app client acks a message the inbox
 * published before the send was recorded. A batch with such reports is applied again, later;
 * the reports of it that applied already change nothing the second time.
 */
export class EarlyReports {
  private waiting = 0;

  constructor(private readonly deps: EarlyReportsDeps) {}

  async apply(reports: ProviderReport[]): Promise<FeedbackOutcome> {
    const outcome = await this.deps.feedback.apply(reports);
    if (outcome.unknown > 0) this.again(reports, 0);
    return outcome;
  }

  private again(reports: ProviderReport[], attempt: number): void {
    const delay = (this.deps.retryDelaysMs ?? RETRY_DELAYS_MS)[attempt];
    if (delay === undefined || this.waiting + reports.length > MAX_WAITING) {
      this.deps.logger.warn(
        {
          provider: reports[0]?.provider,
          kind: reports[0]?.kind,
          reports: reports.length,
          attempts: attempt + 1,
        },
        "reports name messages the message log never recorded as sent: given up",
      );
      return;
    }
    this.waiting += reports.length;
    setTimeout(() => {
      this.deps.feedback.apply(reports).then(
        (outcome) => {
          this.waiting -= reports.length;
          if (outcome.unknown > 0) this.again(reports, attempt + 1);
        },
        (error: unknown) => {
          this.waiting -= reports.length;
          this.deps.logger.warn({ err: error }, "reports not applied yet");
          this.again(reports, attempt + 1);
        },
      );
    }, delay).unref();
  }
}
