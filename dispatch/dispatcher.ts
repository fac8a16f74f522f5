import { redactErrorText } from "../core/personal-data.ts";
import {
  addressOf,
  type DeliveryOutcome,
  type DispatchJob,
  type DispatchQueue,
  type GoneDestination,
  type MessageStatusEvent,
  type StatusChange,
  type StatusEventEncoder,
  type UnitOfWork,
} from "../core/sending/index.ts";
import { DEFAULT_RETRY_SETTINGS, ProviderGates, type RetrySettings, retryDelayMs } from "./failover/index.ts";
import type { ProviderRegistry } from "./provider-registry.ts";

export interface DispatcherDeps {
  unitOfWork: UnitOfWork;
  providers: ProviderRegistry;
  statusEvents: StatusEventEncoder;
  /** Where a job goes back to wait for its next round of tries. */
  queue: DispatchQueue;
  /** Sends in flight at once within a batch. */
  concurrency: number;
  gates?: ProviderGates;
  /**
   * Told of destinations a provider said are gone for good, before their failures are
   * recorded: should it throw, the batch is tried again and nothing is lost.
   */
  onDestinationsGone?: (gone: GoneDestination[]) => Promise<unknown>;
  retry?: RetrySettings;
  now?: () => Date;
  random?: () => number;
}

/** How a batch went: per channel and outcome, for metrics. */
export interface DispatchReport {
  outcomes: {
    channel: string;
    outcome: "sent" | "failed" | "expired" | "deferred" | "skipped_not_queued";
    messageId: string;
    requestId: string;
    /** Why it failed, expired or waits: a code, never an address. */
    reason?: string;
  }[];
}

/**
 * Hands queued messages to their channel's providers and records how each went. A message
 * is sent only while it is `queued`: a job delivered again after a crash finds it `sent`
 * and is skipped; one that was in flight at the crash is sent again with the same message
 * id, which providers take as their idempotency key.
 *
 * The providers of a channel are tried in their configured order while the failures are
 * transient, past those whose breaker is open or whose rate slot is too far off. When none
 * took the message it stays `queued` and its job goes back to its queue through the outbox,
 * to be tried again after a growing wait: until its time to live, where it ends `expired`,
 * or, without one, for RetrySettings.giveUpAfterMs, where it ends `failed`.
 */
export class Dispatcher {
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly gates: ProviderGates;
  private readonly retry: RetrySettings;

  constructor(private readonly deps: DispatcherDeps) {
    this.now = deps.now ?? (() => new Date());
    this.random = deps.random ?? Math.random;
    this.gates = deps.gates ?? new ProviderGates();
    this.retry = deps.retry ?? DEFAULT_RETRY_SETTINGS;
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
    const events: MessageStatusEvent[] = [];
    const deferred: { job: DispatchJob; result: Deferred }[] = [];
    for (const [index, result] of results.entries()) {
      const job = due[index] as DispatchJob;
      report.outcomes.push({
        ...idsOf(job),
        outcome: result.status,
        ...(result.reason ? { reason: result.reason } : {}),
      });
      if (result.status === "deferred") {
        deferred.push({ job, result });
        continue;
      }
      changes.push({
        messageId: job.message.messageId,
        status: result.status,
        at: result.at,
        ...(result.provider ? { provider: result.provider } : {}),
        ...(result.providerMessageId ? { providerMessageId: result.providerMessageId } : {}),
        ...(result.reason ? { details: detailsOf(result) } : {}),
      });
      events.push({
        ...job.event,
        status: result.status,
        occurredAt: result.at,
        attempt: job.event.attempt + result.attempts,
        ...(result.provider ? { provider: result.provider } : {}),
        ...(result.providerMessageId ? { providerMessageId: result.providerMessageId } : {}),
        ...(result.reason ? { reason: result.reason } : {}),
        ...(result.reasonDetail ? { reasonDetail: result.reasonDetail } : {}),
      });
    }
    const gone: GoneDestination[] = [];
    for (const [index, result] of results.entries()) {
      if (result.status !== "failed" || !result.destinationGone || !result.provider) continue;
      const { message } = due[index] as DispatchJob;
      gone.push({
        channel: message.destination.channel,
        recipient: addressOf(message.destination),
        messageId: message.messageId,
        provider: result.provider,
        reason: result.reasonDetail ?? result.reason ?? "",
      });
    }
    if (gone.length > 0) await this.deps.onDestinationsGone?.(gone);
    if (changes.length > 0)
      await this.deps.unitOfWork.recordChanges(changes, this.deps.statusEvents.encode(events));
    if (deferred.length > 0) await this.deferAll(deferred);
    return report;
  }

  /** The attempts noted and each job back on its queue for its time, in one transaction: a retry is never lost. */
  private async deferAll(deferred: { job: DispatchJob; result: Deferred }[]): Promise<void> {
    // Jobs due within the same second share their records.
    const bySecond = new Map<number, DispatchJob[]>();
    for (const { job, result } of deferred) {
      const second = Math.ceil(result.retryAt.getTime() / 1000) * 1000;
      const same = bySecond.get(second) ?? [];
      same.push({
        ...job,
        event: { ...job.event, attempt: job.event.attempt + result.attempts },
        retry: { round: result.round, firstFailedAt: result.firstFailedAt },
      });
      bySecond.set(second, same);
    }
    const records = [...bySecond].flatMap(([second, jobs]) =>
      this.deps.queue.encode(jobs).map((record) => ({ ...record, notBefore: new Date(second) })),
    );
    await this.deps.unitOfWork.run(async (tx) => {
      await tx.messages.noteAttempts(
        deferred.map(({ job, result }) => ({
          messageId: job.message.messageId,
          attempts: result.attempts,
          lastError: detailsOf(result),
          ...(result.provider ? { provider: result.provider } : {}),
        })),
      );
      await tx.outbox.enqueue(records);
    });
  }

  private async send(job: DispatchJob): Promise<SendResult> {
    const { message } = job;
    const now = this.now();
    if (message.expiresAt && now >= message.expiresAt) {
      return {
        status: "expired",
        at: now,
        attempts: 0,
        reason: "TTL_EXPIRED",
        reasonDetail: "its time to live ran out before a provider took it",
      };
    }
    const providers = this.deps.providers.forChannel(message.destination.channel);
    if (providers.length === 0) {
      return {
        status: "failed",
        at: now,
        attempts: 0,
        reason: "NO_PROVIDER",
        reasonDetail: `no provider is configured for ${message.destination.channel}`,
      };
    }
    let last: { provider: string; outcome: Exclude<DeliveryOutcome, { status: "sent" }> } | undefined;
    let attempts = 0;
    let transient = false;
    // Whether any provider failed or was shut by its breaker, rather than only busy (its rate slot far off).
    let unwell = false;
    // When a provider passed over (breaker open, rate slot far off) could be tried again.
    let availableAt = Number.POSITIVE_INFINITY;
    let retryAfterMs = 0;
    for (const provider of providers) {
      const breaker = this.gates.breakerOf(provider.name);
      if (!breaker.tryAcquire()) {
        transient = true;
        unwell = true;
        availableAt = Math.min(availableAt, breaker.availableAt());
        continue;
      }
      const slotInMs = await this.gates.awaitSlot(provider.name);
      if (slotInMs > 0) {
        breaker.released();
        transient = true;
        availableAt = Math.min(availableAt, this.now().getTime() + slotInMs);
        continue;
      }
      attempts++;
      let outcome: DeliveryOutcome;
      try {
        outcome = await provider.send(message);
      } catch (error) {
        // A provider throws only when an assumption of ours broke: this message fails, the batch goes on.
        outcome = { status: "failed", reason: redactErrorText((error as Error).message), retryable: false };
      }
      if (outcome.status === "sent") {
        breaker.succeeded();
        return {
          status: "sent",
          at: this.now(),
          attempts,
          provider: provider.name,
          // The column's length: an id longer than any provider gives is cut, not refused.
          providerMessageId: outcome.providerMessageId.slice(0, 255),
        };
      }
      last = { provider: provider.name, outcome };
      if (outcome.status === "failed" && outcome.retryable) {
        breaker.failed();
        transient = true;
        unwell = true;
        retryAfterMs = Math.max(retryAfterMs, outcome.retryAfterMs ?? 0);
        continue;
      }
      breaker.released();
      if (outcome.status === "failed") break;
    }
    const outcome = last?.outcome;
    const refused = outcome?.status === "failed" && !outcome.retryable;
    const gone = outcome?.status === "failed" && outcome.destinationGone === true;
    if (transient && !refused) {
      return unwell
        ? this.later(job, attempts, last, availableAt, retryAfterMs)
        : this.whenFree(job, availableAt);
    }
    return {
      status: "failed",
      at: this.now(),
      attempts,
      ...(last ? { provider: last.provider } : {}),
      reason:
        outcome?.status === "skipped" ? "PROVIDER_SKIPPED" : gone ? "DESTINATION_GONE" : "PROVIDER_REFUSED",
      reasonDetail: (outcome?.reason ?? "").slice(0, 1000),
      ...(gone ? { destinationGone: true } : {}),
    };
  }

  /**
   * A message every provider was too busy for (their rate slots far off): it comes back when
   * the first slot does, spread over the second after it, without counting as a failed round.
   */
  private whenFree(job: DispatchJob, availableAt: number): SendResult {
    const now = this.now();
    const { expiresAt } = job.message;
    const retryAt = Math.min(
      availableAt + this.random() * 1_000,
      expiresAt?.getTime() ?? Number.POSITIVE_INFINITY,
    );
    return {
      status: "deferred",
      at: now,
      attempts: 0,
      reason: "PROVIDER_RATE_LIMITED",
      reasonDetail: "every provider of the channel is at its rate limit",
      retryAt: new Date(retryAt),
      round: job.retry?.round ?? 0,
      firstFailedAt: job.retry?.firstFailedAt ?? now.getTime(),
    };
  }

  /** The next round of tries for a message no provider took for now, or its end when none is left. */
  private later(
    job: DispatchJob,
    attempts: number,
    last: { provider: string; outcome: Exclude<DeliveryOutcome, { status: "sent" }> } | undefined,
    availableAt: number,
    retryAfterMs: number,
  ): SendResult {
    const now = this.now();
    const round = (job.retry?.round ?? 0) + 1;
    const firstFailedAt = job.retry?.firstFailedAt ?? now.getTime();
    const reasonDetail = (last?.outcome.reason ?? "every provider of the channel is unavailable").slice(
      0,
      1000,
    );
    // Never sooner than the backoff, even when a breaker reopens earlier: its probe is one send.
    let retryAt = Math.max(
      now.getTime() + retryDelayMs(round, this.retry, this.random, retryAfterMs),
      availableAt,
    );
    if (!Number.isFinite(retryAt)) retryAt = now.getTime() + retryDelayMs(round, this.retry, this.random);
    const { expiresAt } = job.message;
    if (expiresAt) {
      // The last round is at its expiry, where it ends `expired`.
      retryAt = Math.min(retryAt, expiresAt.getTime());
    } else if (retryAt - firstFailedAt > this.retry.giveUpAfterMs) {
      return {
        status: "failed",
        at: now,
        attempts,
        ...(last ? { provider: last.provider } : {}),
        reason: "PROVIDER_UNAVAILABLE",
        reasonDetail,
      };
    }
    return {
      status: "deferred",
      at: now,
      attempts,
      ...(last ? { provider: last.provider } : {}),
      reason: "PROVIDER_UNAVAILABLE",
      reasonDetail,
      retryAt: new Date(retryAt),
      round,
      firstFailedAt,
    };
  }
}

function detailsOf(result: { reason?: string; reasonDetail?: string; status: string }): string {
  return result.status !== "expired" && result.reasonDetail
    ? `${result.reason}: ${result.reasonDetail}`
    : (result.reason ?? "");
}

function idsOf(job: DispatchJob) {
  return { channel: job.event.channel, messageId: job.message.messageId, requestId: job.event.requestId };
}

interface Ended {
  status: "sent" | "failed" | "expired";
  at: Date;
  /** Providers tried this round. */
  attempts: number;
  provider?: string;
  providerMessageId?: string;
  reason?: string;
  reasonDetail?: string;
  destinationGone?: boolean;
}

interface Deferred extends Omit<Ended, "status"> {
  status: "deferred";
  retryAt: Date;
  round: number;
  firstFailedAt: number;
}

type SendResult = Ended | Deferred;

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
