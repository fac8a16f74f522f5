import { randomUUID } from "node:crypto";
import type { ClickHouseClient } from "@clickhouse/client";
import type { DeliveryStatsRow, DeliveryStatsSink } from "../core/delivery-stats/index.ts";
import type { Logger } from "../core/logger.ts";

export interface DeliveryStatsWriterOptions {
  /** A batch is cut when this many rows wait. */
  batchRows: number;
  /** …or when the oldest waiting row is this old… */
  flushIntervalMs: number;
  /**
   * …or when a caller waits for its rows to be written and no row came for this long: the
   * rows of its round are all in, and waiting out their age would only idle it (50 by default).
   */
  quietMs?: number;
  /** Rows held at most (waiting, and in batches not yet written); beyond it `record` waits. */
  maxBufferedRows: number;
  /** The first retry of a failed batch waits this long, each next one twice as long… */
  retryInitialMs: number;
  /** …up to this. */
  retryMaxMs: number;
  table?: string;
}

/**
 * What the writer counts, once per batch; prom-client's Counter fits as it is. The rows
 * it holds are read from state() when wanted, not reported on every row.
 */
export interface DeliveryStatsWriterMetrics {
  flushedRows: { inc(value?: number): void };
  failedFlushes: { inc(value?: number): void };
  /** Rows given up on: only those still unwritten when a shutdown's deadline passes. */
  droppedRows: { inc(value?: number): void };
}

export interface DeliveryStatsWriterState {
  bufferedRows: number;
  batches: number;
  waitingCallers: number;
  flushedRows: number;
  failedFlushes: number;
  droppedRows: number;
}

interface Batch {
  /** ClickHouse's insert_deduplication_token: a retried batch that did land is not written twice. */
  token: string;
  values: Record<string, unknown>[];
  attempts: number;
}

interface Waiter {
  row: DeliveryStatsRow;
  resolve: () => void;
}

const resolved = Promise.resolve();
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const maxUInt32 = 4_294_967_295;

/**
 * What ClickHouse would refuse for the whole batch, found before the row joins one: a
 * batch it can never take would be retried forever and stop every statistic behind it.
 * Every other column is a string, which any value fits.
 */
function invalidColumn(row: DeliveryStatsRow): string | undefined {
  if (!uuid.test(row.messageId)) return "messageId is not a UUID";
  if (!(row.occurredAt instanceof Date) || Number.isNaN(row.occurredAt.getTime()))
    return "occurredAt is not a date";
  const year = row.occurredAt.getUTCFullYear();
  // DateTime64's range.
  if (year < 1900 || year > 2299) return "occurredAt is outside 1900-2299";
  if (!Number.isInteger(row.templateVersion) || row.templateVersion < 0 || row.templateVersion > maxUInt32) {
    return "templateVersion is not a UInt32";
  }
  return undefined;
}

// DateTime64(3, 'UTC') as JSONEachRow reads it without best-effort parsing.
function clickHouseTime(date: Date): string {
  return date.toISOString().replace("T", " ").replace("Z", "");
}

function columns(row: DeliveryStatsRow): Record<string, unknown> {
  return {
    event_time: clickHouseTime(row.occurredAt),
    message_id: row.messageId,
    request_id: row.requestId,
    user_id: row.userId,
    template_name: row.templateName,
    template_version: row.templateVersion,
    language: row.language,
    campaign_id: row.campaignId ?? "",
    campaign_variant: row.campaignVariant ?? "",
    channel: row.channel,
    provider: row.provider ?? "",
    priority: row.priority ?? "",
    status: row.status,
    error_code: row.errorCode ?? "",
    reason: row.reason ?? "",
    latency_ms: Math.max(0, Math.min(maxUInt32, Math.round(row.latencyMs ?? 0))),
  };
}

/**
 * Writes status changes to ClickHouse in batches: cut by size or by age, inserted one
 * at a time in order, each with its own deduplication token so that a retry after an
 * answer that never arrived does not count a batch twice. While ClickHouse is down the
 * batches wait and are retried with exponential backoff; memory is bounded by
 * `maxBufferedRows`, and when it is full `record` resolves only once there is room
 * again (back-pressure on the pipeline, never a silent drop). `close` flushes what is
 * held within a deadline; rows still unwritten then are counted and logged as dropped.
 */
export class ClickHouseDeliveryStatsWriter implements DeliveryStatsSink {
  readonly #client: ClickHouseClient;
  readonly #logger: Logger;
  readonly #options: Required<DeliveryStatsWriterOptions>;
  readonly #metrics: DeliveryStatsWriterMetrics | undefined;
  #pending: Record<string, unknown>[] = [];
  readonly #batches: Batch[] = [];
  readonly #waiters: Waiter[] = [];
  #buffered = 0;
  #flushTimer: NodeJS.Timeout | undefined;
  #quietTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #abort = new AbortController();
  #closing = false;
  #flushed = 0;
  #failed = 0;
  #dropped = 0;
  #drained: (() => void)[] = [];
  // Rows held since the start and rows written (or dropped) since, in the order they were
  // held: batches are written one at a time, oldest first, so a count says which are done.
  #heldCount = 0;
  #doneCount = 0;
  #writtenWaiters: { upTo: number; resolve: () => void }[] = [];

  constructor(
    client: ClickHouseClient,
    options: DeliveryStatsWriterOptions,
    logger: Logger,
    metrics?: DeliveryStatsWriterMetrics,
  ) {
    if (options.batchRows < 1 || options.maxBufferedRows < options.batchRows) {
      throw new Error("maxBufferedRows must be at least batchRows, and batchRows at least 1");
    }
    this.#client = client;
    this.#options = { table: "notification_delivery_stats", quietMs: 50, ...options };
    this.#logger = logger.child({ component: "delivery-stats-writer" });
    this.#metrics = metrics;
  }

  /** Rejects only a row ClickHouse could never store (see invalidColumn) and after close. */
  record(row: DeliveryStatsRow): Promise<void> {
    if (this.#closing) return Promise.reject(new Error("the delivery stats writer is closed"));
    const invalid = invalidColumn(row);
    // A bug of the caller's, not an outage: refused at once, never retried.
    if (invalid) return Promise.reject(new TypeError(`delivery stats row refused: ${invalid}`));
    if (this.#buffered < this.#options.maxBufferedRows && this.#waiters.length === 0) {
      this.#hold(row);
      return resolved;
    }
    return new Promise((resolve) => this.#waiters.push({ row, resolve }));
  }

  state(): DeliveryStatsWriterState {
    return {
      bufferedRows: this.#buffered,
      batches: this.#batches.length,
      waitingCallers: this.#waiters.length,
      flushedRows: this.#flushed,
      failedFlushes: this.#failed,
      droppedRows: this.#dropped,
    };
  }

  /**
   * Resolves once every row held so far is written, in a batch cut by its size or age as any
   * other: a caller that must know its rows landed (to commit Kafka offsets) waits without
   * forcing a small insert, each of which ClickHouse turns into a part to merge.
   */
  written(): Promise<void> {
    if (this.#doneCount >= this.#heldCount) return resolved;
    if (this.#pending.length > 0) this.#cutWhenQuiet();
    return new Promise((resolve) => this.#writtenWaiters.push({ upTo: this.#heldCount, resolve }));
  }

  /** Cuts what waits into a batch now, retries a failed batch now, and resolves once nothing is held. */
  flush(): Promise<void> {
    this.#cut();
    if (this.#buffered === 0) return resolved;
    this.#retryNow();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /**
   * Takes no more rows, writes what it holds (callers waiting for room included), and
   * gives up after `deadlineMs`: what is unwritten then is dropped, counted and logged.
   * A batch whose insert was in flight at the deadline counts as dropped, though
   * ClickHouse may have stored it.
   */
  async close(deadlineMs: number): Promise<{ droppedRows: number }> {
    if (this.#closing) return { droppedRows: 0 };
    this.#closing = true;
    // Their rows are already in memory; the bound only ever meant to stop new ones.
    for (const waiter of this.#waiters.splice(0)) {
      this.#hold(waiter.row);
      waiter.resolve();
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), deadlineMs);
    });
    const outcome = await Promise.race([this.flush().then(() => "flushed" as const), deadline]);
    clearTimeout(timer);
    clearTimeout(this.#flushTimer);
    clearTimeout(this.#quietTimer);
    clearTimeout(this.#retryTimer);
    if (outcome === "flushed") return { droppedRows: 0 };
    this.#abort.abort();
    await this.#inFlight;
    const dropped = this.#buffered;
    this.#pending = [];
    this.#batches.length = 0;
    this.#buffered = 0;
    this.#dropped += dropped;
    this.#metrics?.droppedRows.inc(dropped);
    this.#logger.error(
      { droppedRows: dropped, deadlineMs },
      "delivery statistics not confirmed written before the shutdown deadline; dropped (a batch in flight may still have landed)",
    );
    this.#done(dropped);
    for (const resolve of this.#drained.splice(0)) resolve();
    return { droppedRows: dropped };
  }

  #hold(row: DeliveryStatsRow): void {
    this.#pending.push(columns(row));
    this.#buffered++;
    this.#heldCount++;
    if (this.#pending.length >= this.#options.batchRows) {
      this.#cut();
    } else if (this.#flushTimer === undefined) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        this.#cut();
      }, this.#options.flushIntervalMs);
      this.#flushTimer.unref();
    }
  }

  // Checks the count of rows held, not a clock per row: the check runs per quietMs, rows by thousands.
  #cutWhenQuiet(): void {
    if (this.#quietTimer !== undefined) return;
    const heldBefore = this.#heldCount;
    this.#quietTimer = setTimeout(() => {
      this.#quietTimer = undefined;
      if (this.#pending.length === 0) return;
      if (this.#heldCount === heldBefore) this.#cut();
      else this.#cutWhenQuiet();
    }, this.#options.quietMs);
    this.#quietTimer.unref();
  }

  #cut(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    clearTimeout(this.#quietTimer);
    this.#quietTimer = undefined;
    if (this.#pending.length === 0) return;
    this.#batches.push({ token: randomUUID(), values: this.#pending, attempts: 0 });
    this.#pending = [];
    this.#pump();
  }

  #retryNow(): void {
    if (this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#pump();
  }

  #pump(): void {
    if (this.#inFlight !== undefined || this.#retryTimer !== undefined || this.#abort.signal.aborted) return;
    const batch = this.#batches[0];
    if (!batch) return;
    this.#inFlight = this.#write(batch).finally(() => {
      this.#inFlight = undefined;
      this.#pump();
    });
  }

  async #write(batch: Batch): Promise<void> {
    batch.attempts++;
    try {
      await this.#client.insert({
        table: this.#options.table,
        values: batch.values,
        format: "JSONEachRow",
        clickhouse_settings: { insert_deduplicate: 1, insert_deduplication_token: batch.token },
        abort_signal: this.#abort.signal,
      });
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      this.#failed++;
      this.#metrics?.failedFlushes.inc();
      const delayMs = Math.min(
        this.#options.retryMaxMs,
        this.#options.retryInitialMs * 2 ** Math.min(batch.attempts - 1, 30),
      );
      // Half fixed, half random: writers that failed together do not retry together.
      const waitMs = Math.round(delayMs / 2 + Math.random() * (delayMs / 2));
      this.#logger.warn(
        {
          err: error,
          rows: batch.values.length,
          attempt: batch.attempts,
          retryInMs: waitMs,
          bufferedRows: this.#buffered,
        },
        "writing delivery statistics failed; the batch is kept and retried",
      );
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.#pump();
      }, waitMs);
      this.#retryTimer.unref();
      return;
    }
    this.#batches.shift();
    this.#flushed += batch.values.length;
    this.#metrics?.flushedRows.inc(batch.values.length);
    this.#buffered -= batch.values.length;
    this.#done(batch.values.length);
    if (batch.attempts > 1) {
      this.#logger.info(
        { rows: batch.values.length, attempts: batch.attempts },
        "delivery statistics written after retries",
      );
    }
    this.#admitWaiters();
    if (this.#buffered === 0) for (const resolve of this.#drained.splice(0)) resolve();
  }

  #done(rows: number): void {
    this.#doneCount += rows;
    const still: { upTo: number; resolve: () => void }[] = [];
    for (const waiter of this.#writtenWaiters) {
      if (waiter.upTo <= this.#doneCount) waiter.resolve();
      else still.push(waiter);
    }
    this.#writtenWaiters = still;
  }

  #admitWaiters(): void {
    while (this.#waiters.length > 0 && this.#buffered < this.#options.maxBufferedRows) {
      const waiter = this.#waiters.shift() as Waiter;
      this.#hold(waiter.row);
      waiter.resolve();
    }
  }
}
