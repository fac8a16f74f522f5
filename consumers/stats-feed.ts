import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Channel } from "../core/channels.ts";
import type { DeliveryStatsRow, DeliveryStatsSink, DeliveryStatus } from "../core/delivery-stats/index.ts";
import type { Logger } from "../core/logger.ts";
import { MessageStatusUpdatedSchema } from "../gen/platform/notification/events/v1/message_status_updated_pb.ts";
import type { RecordChunk } from "./batch-consumer.ts";
import { STATUS_EVENT_TYPE } from "./status-events.ts";

/** What statistics leave out: waiting for a send time, and being cancelled while waiting. */
const NOT_COUNTED = new Set(["scheduled", "cancelled"]);
const decoder = new TextDecoder();

/**
 * Statistics fed from the status events topic, so they never slow PostgreSQL and never
 * miss a change: the events are the committed changes (the outbox), and a chunk's offsets
 * are committed only once ClickHouse took its rows. While ClickHouse is down the consumer
 * waits on its partitions, the backlog staying in Kafka rather than in memory.
 */
export function statsFeed(deps: {
  writer: DeliveryStatsSink & { flush(): Promise<void> };
  logger: Logger;
  /** How long to wait for a flush between heartbeats. */
  heartbeatMs?: number;
}) {
  return async function handle(chunk: RecordChunk): Promise<void> {
    for (const record of chunk.records) {
      const row = record.value ? statsRowOf(record.value) : undefined;
      if (row) await deps.writer.record(row);
    }
    const flushed = deps.writer.flush().then(() => true);
    let waits = 0;
    while (!(await Promise.race([flushed, delay(deps.heartbeatMs ?? 3_000)]))) {
      if (++waits === 1) deps.logger.warn({ partition: chunk.partition }, "statistics wait for ClickHouse");
      await chunk.heartbeat();
    }
  };
}

/** The statistics row of one status event; undefined for what is not ours to count. */
export function statsRowOf(value: Uint8Array): DeliveryStatsRow | undefined {
  let envelope: { type?: unknown; data?: JsonValue };
  try {
    envelope = JSON.parse(decoder.decode(value));
  } catch {
    return undefined;
  }
  if (envelope?.type !== STATUS_EVENT_TYPE) return undefined;
  let event: ReturnType<typeof fromJson<typeof MessageStatusUpdatedSchema>>;
  try {
    event = fromJson(MessageStatusUpdatedSchema, envelope.data ?? null, { ignoreUnknownFields: true });
  } catch {
    return undefined;
  }
  if (NOT_COUNTED.has(event.status) || !event.occurredAt) return undefined;
  const occurredAt = timestampDate(event.occurredAt);
  return {
    occurredAt,
    messageId: event.messageId,
    requestId: event.requestId,
    userId: event.userId,
    channel: event.channel as Channel,
    status: event.status as DeliveryStatus,
    templateName: event.templateName,
    templateVersion: event.templateVersion,
    language: "",
    ...(event.provider ? { provider: event.provider } : {}),
    ...(event.priority ? { priority: event.priority } : {}),
    ...(event.campaignId ? { campaignId: event.campaignId } : {}),
    ...(event.reason ? { errorCode: event.reason } : {}),
    ...(event.reasonDetail ? { reason: event.reasonDetail } : {}),
    ...(event.acceptedAt
      ? { latencyMs: occurredAt.getTime() - timestampDate(event.acceptedAt).getTime() }
      : {}),
  };
}

function delay(ms: number): Promise<false> {
  return new Promise((resolve) => setTimeout(() => resolve(false), ms));
}
