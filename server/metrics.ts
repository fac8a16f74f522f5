import { Counter, collectDefaultMetrics, Gauge, Histogram, type LabelValues, Registry } from "prom-client";
import type { BreakerState } from "../dispatch/index.ts";

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
  /** The send pipeline's stages, from the intake to the providers (consumers/ reports into these). */
  pipeline: {
    consumed: Counter<"topic">;
    /** Records per chunk a consumer hands over, by topic: every chunk costs its stage a round of work whatever its size. */
    chunkRecords: Histogram<"topic">;
    deadLettered: Counter<"reason">;
    deduplicated: Counter;
    accepted: Counter;
    dispatched: Counter<"channel" | "outcome">;
    undecodableRecords: Counter;
    scheduledReleased: Counter;
    /** Events committed and not yet on Kafka; read at a scrape. */
    outboxBacklog: Gauge;
    observeOutboxBacklog(read: () => Promise<number>): void;
    /** Records not yet consumed per consumer group; read at a scrape. */
    consumerLag: Gauge<"group">;
    observeConsumerLag(read: () => Promise<Record<string, number>>): void;
  };
  /** What users and providers tell us back: unsubscribes, and the calls we refused. */
  feedback: {
    unsubscribes: Counter;
    refused: Counter<"endpoint" | "reason">;
    webhookReports: Counter<"provider">;
    bounceMail: Counter<"provider" | "outcome">;
    trackingHits: Counter<"kind" | "outcome">;
  };
  /** The in-app WebSocket gateway of this process. */
  gateway: {
    connections: Gauge;
    observeConnections(read: () => number): void;
    refused: Counter<"reason">;
    closed: Counter<"code">;
    delivered: Counter;
  };
  /** Each provider's health as this process's dispatcher sees it. */
  providers: {
    /** 0 closed, 1 half open, 2 open; read at a scrape. */
    breakerState: Gauge<"provider">;
    observeBreakers(read: () => { provider: string; state: BreakerState }[]): void;
    breakerChanges: Counter<"provider" | "to">;
    rateLimiterErrors: Counter<"provider">;
  };
}

const BREAKER_STATE_VALUES: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export function createMetrics(): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: "notification-service" });
  collectDefaultMetrics({ register: registry });
  const rpcRequestCounts = new PendingCounts<CallLabel>();
  let readBufferedRows = (): number => 0;
  let readOutboxBacklog = async (): Promise<number> => 0;
  let readConsumerLag = async (): Promise<Record<string, number>> => ({});
  let readBreakers = (): { provider: string; state: BreakerState }[] => [];
  let readConnections = (): number => 0;
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
    pipeline: {
      consumed: new Counter({
        name: "notification_pipeline_consumed_total",
        help: "Kafka records the pipeline consumed, by topic.",
        labelNames: ["topic"],
        registers: [registry],
      }),
      chunkRecords: new Histogram({
        name: "notification_pipeline_chunk_records",
        help: "Records per chunk a pipeline consumer handed to its stage, by topic: a chunk costs the stage a transaction and its round trips whatever its size.",
        labelNames: ["topic"],
        buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
        registers: [registry],
      }),
      deadLettered: new Counter({
        name: "notification_pipeline_dead_lettered_total",
        help: "Send requests sent to the dead-letter topic, by reason.",
        labelNames: ["reason"],
        registers: [registry],
      }),
      deduplicated: new Counter({
        name: "notification_pipeline_deduplicated_total",
        help: "Send requests that arrived again after they were accepted, and were not sent again.",
        registers: [registry],
      }),
      accepted: new Counter({
        name: "notification_pipeline_accepted_total",
        help: "Send requests accepted by the orchestrator.",
        registers: [registry],
      }),
      dispatched: new Counter({
        name: "notification_dispatched_total",
        help: "Messages handed to providers, by channel and outcome (sent, failed, expired, deferred to a later try, skipped_not_queued).",
        labelNames: ["channel", "outcome"],
        registers: [registry],
      }),
      undecodableRecords: new Counter({
        name: "notification_dispatch_undecodable_records_total",
        help: "Records of dispatch jobs that could not be opened (sealed with a key no longer configured); their messages stay queued.",
        registers: [registry],
      }),
      scheduledReleased: new Counter({
        name: "notification_scheduled_released_total",
        help: "Scheduled send requests released at their time.",
        registers: [registry],
      }),
      outboxBacklog: new Gauge({
        name: "notification_outbox_backlog",
        help: "Events committed in the outbox and not yet published to Kafka.",
        registers: [registry],
        async collect() {
          this.set(await readOutboxBacklog().catch(() => -1));
        },
      }),
      observeOutboxBacklog(read) {
        readOutboxBacklog = read;
      },
      consumerLag: new Gauge({
        name: "notification_consumer_lag",
        help: "Records on the topics a consumer group reads that it has not consumed yet (the ClickHouse backlog is the stats group's).",
        labelNames: ["group"],
        registers: [registry],
        async collect() {
          const lags = await readConsumerLag().catch(() => ({}));
          for (const [group, lag] of Object.entries(lags)) this.set({ group }, lag);
        },
      }),
      observeConsumerLag(read) {
        readConsumerLag = read;
      },
    },
    feedback: {
      unsubscribes: new Counter({
        name: "notification_unsubscribes_total",
        help: "Notification types turned off through the unsubscribe link of an email.",
        registers: [registry],
      }),
      refused: new Counter({
        name: "notification_feedback_refused_total",
        help: "Calls of the unsubscribe, webhook and tracking endpoints refused, by endpoint and reason (invalid_link, bad_signature, invalid_token, method, too_large…).",
        labelNames: ["endpoint", "reason"],
        registers: [registry],
      }),
      webhookReports: new Counter({
        name: "notification_webhook_reports_total",
        help: "Reports (delivered, bounced, complaint, unsubscribed) taken from providers' webhook calls, by provider.",
        labelNames: ["provider"],
        registers: [registry],
      }),
      bounceMail: new Counter({
        name: "notification_bounce_mail_total",
        help: "Messages read from an SMTP provider's bounce mailbox and deleted, by outcome: report (a delivery status notification of ours, applied), or why it was passed over (not_a_dsn, not_ours, no_final_status, unparseable, oversized).",
        labelNames: ["provider", "outcome"],
        registers: [registry],
      }),
      trackingHits: new Counter({
        name: "notification_tracking_hits_total",
        help: "Open pixels and click redirects of tracked emails served, by kind (open, click) and outcome: human (counted, its first the message's status), machine (a privacy proxy or link scanner, counted apart), expired (past TRACKING_LINK_TTL_DAYS, not counted), unknown_message, failed (not recorded: the store failed).",
        labelNames: ["kind", "outcome"],
        registers: [registry],
      }),
    },
    gateway: {
      connections: new Gauge({
        name: "notification_gateway_connections",
        help: "WebSocket connections the gateway of this process holds.",
        registers: [registry],
        collect() {
          this.set(readConnections());
        },
      }),
      observeConnections(read) {
        readConnections = read;
      },
      refused: new Counter({
        name: "notification_gateway_refused_total",
        help: "WebSocket connections refused before they were made, by reason (origin, process_full, user_full, draining, subprotocol, unknown_path).",
        labelNames: ["reason"],
        registers: [registry],
      }),
      closed: new Counter({
        name: "notification_gateway_closed_total",
        help: "WebSocket connections closed, by close code (gateway-ws/PROTOCOL.md: 4001 unauthenticated, 4008 slow consumer, 1012 drained…).",
        labelNames: ["code"],
        registers: [registry],
      }),
      delivered: new Counter({
        name: "notification_gateway_messages_sent_total",
        help: "In-app messages the gateway sent over WebSockets, live or on resume.",
        registers: [registry],
      }),
    },
    providers: {
      breakerState: new Gauge({
        name: "notification_provider_breaker_state",
        help: "Each provider's circuit breaker in this process: 0 closed, 1 half open (probing), 2 open (skipped).",
        labelNames: ["provider"],
        registers: [registry],
        collect() {
          for (const { provider, state } of readBreakers())
            this.set({ provider }, BREAKER_STATE_VALUES[state]);
        },
      }),
      observeBreakers(read) {
        readBreakers = read;
      },
      breakerChanges: new Counter({
        name: "notification_provider_breaker_changes_total",
        help: "Circuit breaker changes by provider and the state it went to.",
        labelNames: ["provider", "to"],
        registers: [registry],
      }),
      rateLimiterErrors: new Counter({
        name: "notification_provider_rate_limiter_errors_total",
        help: "Sends that went without their rate slot because the shared limiter (Redis) did not answer.",
        labelNames: ["provider"],
        registers: [registry],
      }),
    },
  };
}
