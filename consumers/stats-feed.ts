import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Channel } from "../core/channels.ts";
import type { DeliveryStatsRow, DeliveryStatsSink, DeliveryStatus } from "../core/delivery-stats/index.ts";
import type { Logger } from "../core/logger.ts";
import {
  type MessageStatusUpdated,
  MessageStatusUpdatedSchema,
} from "../gen/platform/notification/events/v1/message_status_updated_pb.ts";
import { avroSchemaOf } from "./avro/index.ts";
import type { RecordChunk } from "./batch-consumer.ts";
import { binaryEventDecoder } from "./binary-cloud-event.ts";
import { turnTaker } from "./event-loop-turns.ts";
import type { SchemaRegistryClient } from "./schema-registry/index.ts";
import type { IntakeRecord } from "./send-request-decoder.ts";
import { STATUS_EVENT_TYPE } from "./status-events.ts";

/** What statistics leave out: waiting for a send time, and being cancelled while waiting. */
const NOT_COUNTED = new Set(["scheduled", "cancelled"]);

/**
 * Statistics fed from the status events topic, so they never slow PostgreSQL and never
 * miss a change: the events are the committed changes (the outbox), and a chunk's offsets
 * are committed only once ClickHouse took its rows. While ClickHouse is down the consumer
 * waits on its partitions, the backlog staying in Kafka rather than in memory.
 */
export function statsFeed(deps: {
  read: (record: IntakeRecord) => Promise<MessageStatusUpdated | undefined>;
  writer: DeliveryStatsSink & { written(): Promise<void> };
  logger: Logger;
  /** How long to wait for the rows to be written between heartbeats. */
  heartbeatMs?: number;
}) {
  return async function handle(chunk: RecordChunk): Promise<void> {
    let refused = 0;
    const turn = turnTaker();
    for (const record of chunk.records) {
      await turn();
      const event = await deps.read(record);
      const row = event ? statsRowOf(event) : undefined;
      // A row ClickHouse could never store (not our message id) is skipped: retried, it would stall the partition.
      if (row) {
        await deps.writer.record(row).catch((error: unknown) => {
          if (!(error instanceof TypeError)) throw error;
          refused++;
        });
      }
    }
    if (refused > 0)
      deps.logger.warn(
        { partition: chunk.partition, refused },
        "status events statistics cannot count, skipped",
      );
    // Not a flush of its own: chunks of every partition share the writer's next batch.
    const written = deps.writer.written().then(() => true);
    let waits = 0;
    while (!(await Promise.race([written, delay(deps.heartbeatMs ?? 3_000)]))) {
      if (++waits === 1) deps.logger.warn({ partition: chunk.partition }, "statistics wait for ClickHouse");
      await chunk.heartbeat();
    }
  };
}

/**
 * Reads a record of the events topic in either mode we write it (EVENTS_FORMAT); anything
 * else there (another producer's event, a broken record) is not ours to count. Rejects only
 * when the schema registry cannot be asked, so the chunk is tried again.
 */
export function statusEventReader(
  registry: Pick<SchemaRegistryClient, "schemaById">,
  maxBytes = 1024 * 1024,
) {
  const binary = binaryEventDecoder({
    type: STATUS_EVENT_TYPE,
    data: MessageStatusUpdatedSchema,
    maxBytes,
    avroSchema: avroSchemaOf(MessageStatusUpdatedSchema),
    registry,
  });
  return async (record: IntakeRecord): Promise<MessageStatusUpdated | undefined> => {
    if (record.value === null) return undefined;
    if (record.headers?.ce_specversion !== undefined) {
      const decoded = await binary(record.value, record.headers ?? {});
      return decoded.kind === "event" ? decoded.data : undefined;
    }
    // Structured: two events per message go through here, so only read, not validated as
    // the intake validates; a row ClickHouse cannot store is refused by the writer.
    try {
      const envelope = JSON.parse(textDecoder.decode(record.value)) as { type?: unknown; data?: JsonValue };
      if (envelope?.type !== STATUS_EVENT_TYPE) return undefined;
      return fromJson(MessageStatusUpdatedSchema, envelope.data ?? null, { ignoreUnknownFields: true });
    } catch {
      return undefined;
    }
  };
}

const textDecoder = new TextDecoder();

/** The statistics row of one status event; undefined for the statuses statistics leave out. */
export function statsRowOf(event: MessageStatusUpdated): DeliveryStatsRow | undefined {
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
    ...(event.campaignVariant ? { campaignVariant: event.campaignVariant } : {}),
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
