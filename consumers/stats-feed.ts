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
  read: (record: IntakeRecord) => Promise<StatusEventFields | undefined>;
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

/** What statistics read of a status event, whichever form it came in. */
export interface StatusEventFields {
  messageId: string;
  requestId: string;
  userId: string;
  channel: string;
  status: string;
  reason: string;
  reasonDetail: string;
  provider: string;
  templateName: string;
  templateVersion: number;
  occurredAt: Date | undefined;
  acceptedAt: Date | undefined;
  priority: string;
  campaignId: string;
  campaignVariant: string;
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
  return async (record: IntakeRecord): Promise<StatusEventFields | undefined> => {
    if (record.value === null) return undefined;
    if (record.headers?.ce_specversion !== undefined) {
      const decoded = await binary(record.value, record.headers ?? {});
      return decoded.kind === "event" ? fieldsOfMessage(decoded.data) : undefined;
    }
    // Structured: two events per message go through here, so only read, not validated as
    // the intake validates; a row ClickHouse cannot store is refused by the writer.
    try {
      const envelope = JSON.parse(textDecoder.decode(record.value)) as { type?: unknown; data?: JsonValue };
      if (envelope?.type !== STATUS_EVENT_TYPE) return undefined;
      const data = envelope.data ?? null;
      return (
        fieldsOfOwnJson(data) ??
        fieldsOfMessage(fromJson(MessageStatusUpdatedSchema, data, { ignoreUnknownFields: true }))
      );
    } catch {
      return undefined;
    }
  };
}

const textDecoder = new TextDecoder();

export function fieldsOfMessage(event: MessageStatusUpdated): StatusEventFields {
  return {
    messageId: event.messageId,
    requestId: event.requestId,
    userId: event.userId,
    channel: event.channel,
    status: event.status,
    reason: event.reason,
    reasonDetail: event.reasonDetail,
    provider: event.provider,
    templateName: event.templateName,
    templateVersion: event.templateVersion,
    occurredAt: event.occurredAt && timestampDate(event.occurredAt),
    acceptedAt: event.acceptedAt && timestampDate(event.acceptedAt),
    priority: event.priority,
    campaignId: event.campaignId,
    campaignVariant: event.campaignVariant,
  };
}

const TEXT_FIELDS = [
  "messageId",
  "requestId",
  "correlationId",
  "campaignId",
  "campaignVariant",
  "userId",
  "channel",
  "status",
  "reason",
  "reasonDetail",
  "provider",
  "providerMessageId",
  "templateName",
  "priority",
] as const;
const INT32_FIELDS = ["templateVersion", "attempt"] as const;
// The timestamps statusUpdatedJson writes: whole seconds or milliseconds, in UTC.
const OWN_TIMESTAMP = /^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3})?Z$/;

/**
 * The fields of event data in the form statusUpdatedJson writes it, read by hand:
 * protobuf-es's reflective fromJson was a fifth of the statistics thread, at two events
 * per message. Undefined for data in any other form (snake_case names, nulls, numbers as
 * strings, other timestamps…), which fromJson reads instead; a test holds both to the same
 * fields.
 */
export function fieldsOfOwnJson(data: JsonValue): StatusEventFields | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  if (typeof data.messageId !== "string") return undefined;
  for (const name of TEXT_FIELDS) {
    const value = data[name];
    if (value !== undefined && typeof value !== "string") return undefined;
  }
  for (const name of INT32_FIELDS) {
    const value = data[name];
    if (value !== undefined && !isInt32(value)) return undefined;
  }
  const occurredAt = ownTimestamp(data.occurredAt);
  const acceptedAt = ownTimestamp(data.acceptedAt);
  if (occurredAt === null || acceptedAt === null) return undefined;
  const text = (name: (typeof TEXT_FIELDS)[number]) => (data[name] as string | undefined) ?? "";
  return {
    messageId: data.messageId,
    requestId: text("requestId"),
    userId: text("userId"),
    channel: text("channel"),
    status: text("status"),
    reason: text("reason"),
    reasonDetail: text("reasonDetail"),
    provider: text("provider"),
    templateName: text("templateName"),
    templateVersion: (data.templateVersion as number | undefined) ?? 0,
    occurredAt,
    acceptedAt,
    priority: text("priority"),
    campaignId: text("campaignId"),
    campaignVariant: text("campaignVariant"),
  };
}

function isInt32(value: JsonValue): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31;
}

/** Undefined when absent, null when not in our form. */
function ownTimestamp(value: JsonValue | undefined): Date | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !OWN_TIMESTAMP.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** The statistics row of one status event; undefined for the statuses statistics leave out. */
export function statsRowOf(event: StatusEventFields): DeliveryStatsRow | undefined {
  const { occurredAt } = event;
  if (NOT_COUNTED.has(event.status) || !occurredAt) return undefined;
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
    ...(event.acceptedAt ? { latencyMs: occurredAt.getTime() - event.acceptedAt.getTime() } : {}),
  };
}

function delay(ms: number): Promise<false> {
  return new Promise((resolve) => setTimeout(() => resolve(false), ms));
}
