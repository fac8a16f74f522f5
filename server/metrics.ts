import { Counter, collectDefaultMetrics, Gauge, Histogram, type LabelValues, Registry } from "prom-client";

type CallLabel = "procedure" | "surface" | "stage" | "code";

/**
 * Counts kept in plain numbers per label set and added to their counter when it is read (a
 * scrape): prom-client hashes and checks the labels of every inc otherwise, which was a few
 * percent of a cached read. The number of label sets is bounded by the caller.
 */
export class PendingCounts<T extends string> {
  private readonly slots: { labels: LabelValues<T>; count: number }[] = [];

  /** Called by the counter's collect, before it is read. */
  flushInto(counter: Counter<T>): void {
    for (const slot of this.slots) {
      if (slot.count === 0) continue;
      counter.inc(slot.labels, slot.count);
      slot.count = 0;
    }
  }

  /** The slot of one label set: `slot.count++` counts one. */
  slot(labels: LabelValues<T>): { count: number } {
    const slot = { labels, count: 0 };
    this.slots.push(slot);
    return slot;
  }
}

export interface Metrics {
  registry: Registry;
  rpcRequests: Counter<CallLabel>;
  /** Where increments of rpcRequests wait for the next scrape. */
  rpcRequestCounts: PendingCounts<CallLabel>;
  rpcDuration: Histogram<"procedure" | "surface" | "stage">;
  cacheLookups: Counter<"cache" | "outcome">;
  /** The delivery stats writer's: what it holds, wrote, failed to write and gave up on. */
  statsWriter: {
    bufferedRows: Gauge;
    /** Where bufferedRows reads its value at a scrape, rather than a set on every row. */
    observeBufferedRows(read: () => number): void;
    flushedRows: Counter;
    failedFlushes: Counter;
    droppedRows: Counter;
  };
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: "notification-service" });
  collectDefaultMetrics({ register: registry });
  const rpcRequestCounts = new PendingCounts<CallLabel>();
  let readBufferedRows = (): number => 0;
  return {
    registry,
    rpcRequestCounts,
    rpcRequests: new Counter({
      name: "notification_rpc_requests_total",
      help: "API calls by procedure, API surface, stage (rpc, or transcoding for REST requests refused before the RPC) and result code.",
      labelNames: ["procedure", "surface", "stage", "code"],
      registers: [registry],
      collect() {
        rpcRequestCounts.flushInto(this);
      },
    }),
    rpcDuration: new Histogram({
      name: "notification_rpc_duration_seconds",
      help: "Time to the RPC's response headers, in seconds.",
      labelNames: ["procedure", "surface", "stage"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: "notification_cache_lookups_total",
      help: "Cache lookups by cache and how each was answered: local_hit, redis_hit, miss, redis_error.",
      labelNames: ["cache", "outcome"],
      registers: [registry],
    }),
    statsWriter: {
      bufferedRows: new Gauge({
        name: "notification_stats_buffered_rows",
        help: "Delivery statistics rows held in memory, waiting or in batches not yet written to ClickHouse.",
        registers: [registry],
        collect() {
          this.set(readBufferedRows());
        },
      }),
      observeBufferedRows(read) {
        readBufferedRows = read;
      },
      flushedRows: new Counter({
        name: "notification_stats_flushed_rows_total",
        help: "Delivery statistics rows written to ClickHouse.",
        registers: [registry],
      }),
      failedFlushes: new Counter({
        name: "notification_stats_failed_flushes_total",
        help: "Batch inserts into ClickHouse that failed and were kept to retry.",
        registers: [registry],
      }),
      droppedRows: new Counter({
        name: "notification_stats_dropped_rows_total",
        help: "Delivery statistics rows lost: still unwritten when a shutdown's deadline passed.",
        registers: [registry],
      }),
    },
  };
}
