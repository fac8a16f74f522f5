import { redactErrorText } from "../core/personal-data.ts";
import type {
  DeliveryOutcome,
  DispatchJob,
  MessageStatusEvent,
  StatusChange,
  StatusEventEncoder,
  UnitOfWork,
} from "../core/sending/index.ts";
import type { ProviderRegistry } from "./provider-registry.ts";

export interface DispatcherDeps {
  unitOfWork: UnitOfWork;
  providers: ProviderRegistry;
  statusEvents: StatusEventEncoder;
  /** Sends in flight at once within a batch. */
  concurrency: number;
  now?: () => Date;
}

/** How a batch went: per channel and outcome, for metrics. */
export interface DispatchReport {
  outcomes: {
    channel: string;
    outcome: "sent" | "failed" | "expired" | "skipped_not_queued";
    messageId: string;
    requestId: string;
    /** Why it failed or expired: a code, never an address. */
    reason?: string;
  }[];
}

/**
 * Hands queued messages to their channel's providers and records how each went. A message
 * is sent only while it is `queued`: a job delivered again after a crash finds it `sent`
 * and is skipped; one that was in flight at the crash is sent again with the same message
 * id, which providers take as their idempotency key. The providers of a channel are tried
 * in their configured order while the failures are transient.
 */
export class Dispatcher {
  private readonly now: () => Date;

  constructor(private readonly deps: DispatcherDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async dispatch(jobs: DispatchJob[]): Promise<DispatchReport> {
    const ids = jobs.map((job) => job.message.messageId);
    const statuses = await this.deps.unitOfWork.read((stores) => stores.messages.statuses(ids));
    const report: DispatchReport = { outcomes: [] };
    const due = jobs.filter((job) => {
      const queued = statuses.get(job.message.messageId) === "queued";
      if (!queued) report.outcomes.push({ ...idsOf(job), outcome: "skipped_not_queued" });
      return queued;
    });
    const results = await inTurns(due, this.deps.concurrency, (job) => this.send(job));
    const changes: StatusChange[] = [];
    const events = new Map<string, MessageStatusEvent>();
    for (const [index, result] of results.entries()) {
      const job = due[index] as DispatchJob;
      report.outcomes.push({
        ...idsOf(job),
        outcome: result.status,
        ...(result.reason ? { reason: result.reason } : {}),
      });
      changes.push({
        messageId: job.message.messageId,
        status: result.status,
        at: result.at,
        ...(result.provider ? { provider: result.provider } : {}),
        ...(result.reason
          ? {
              details:
                result.status === "failed" && result.reasonDetail
                  ? `${result.reason}: ${result.reasonDetail}`
                  : result.reason,
            }
          : {}),
      });
      events.set(`${job.message.messageId}:${result.status}`, {
        ...job.event,
        status: result.status,
        occurredAt: result.at,
        attempt: result.attempts,
        ...(result.provider ? { provider: result.provider } : {}),
        ...(result.providerMessageId ? { providerMessageId: result.providerMessageId } : {}),
        ...(result.reason ? { reason: result.reason } : {}),
        ...(result.reasonDetail ? { reasonDetail: result.reasonDetail } : {}),
      });
    }
    if (changes.length > 0) {
      const encoded = this.deps.statusEvents.encode(
        changes.map((change) => events.get(`${change.messageId}:${change.status}`) as MessageStatusEvent),
      );
      await this.deps.unitOfWork.recordChanges(changes, encoded);
    }
    return report;
  }

  private async send(job: DispatchJob): Promise<SendResult> {
    const { message } = job;
    if (message.expiresAt && this.now() > message.expiresAt) {
      return {
        status: "expired",
        at: this.now(),
        attempts: 0,
        reason: "TTL_EXPIRED",
        reasonDetail: "its time to live ran out before a provider took it",
      };
    }
    const providers = this.deps.providers.forChannel(message.destination.channel);
    if (providers.length === 0) {
      return {
        status: "failed",
        at: this.now(),
        attempts: 0,
        reason: "NO_PROVIDER",
        reasonDetail: `no provider is configured for ${message.destination.channel}`,
      };
    }
    let last: { provider: string; outcome: Exclude<DeliveryOutcome, { status: "sent" }> } | undefined;
    let attempts = 0;
    for (const provider of providers) {
      attempts++;
      let outcome: DeliveryOutcome;
      try {
        outcome = await provider.send(message);
      } catch (error) {
        // A provider throws only when an assumption of ours broke: this message fails, the batch goes on.
        outcome = { status: "failed", reason: redactErrorText((error as Error).message), retryable: false };
      }
      if (outcome.status === "sent") {
        return {
          status: "sent",
          at: this.now(),
          attempts,
          provider: provider.name,
          providerMessageId: outcome.providerMessageId,
        };
      }
      last = { provider: provider.name, outcome };
      if (outcome.status === "failed" && !outcome.retryable) break;
    }
    const outcome = last?.outcome;
    return {
      status: "failed",
      at: this.now(),
      attempts,
      ...(last ? { provider: last.provider } : {}),
      reason:
        outcome?.status === "skipped"
          ? "PROVIDER_SKIPPED"
          : outcome?.retryable
            ? "PROVIDER_UNAVAILABLE"
            : "PROVIDER_REFUSED",
      reasonDetail: (outcome?.reason ?? "").slice(0, 1000),
    };
  }
}

function idsOf(job: DispatchJob) {
  return { channel: job.event.channel, messageId: job.message.messageId, requestId: job.event.requestId };
}

interface SendResult {
  status: "sent" | "failed" | "expired";
  at: Date;
  attempts: number;
  provider?: string;
  providerMessageId?: string;
  reason?: string;
  reasonDetail?: string;
}

/** `work` over `items` with at most `limit` at once; the results in the items' order. */
async function inTurns<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}
