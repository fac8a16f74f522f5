import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import avro from "avsc";
import { DomainError, ErrorCatalog } from "../core/errors.ts";
import type { MessageStatusEvent, OutboxEvent, StatusEventEncoder } from "../core/sending/index.ts";
import { MessageStatusUpdatedSchema } from "../gen/platform/notification/events/v1/message_status_updated_pb.ts";
import { avroSchemaOf, toAvroRecord } from "./avro/index.ts";
import { frameAvro, frameProtobuf } from "./confluent-framing.ts";
import { avroSubjectOf, protobufSubjectOf } from "./schema-registry/index.ts";
import { TOPICS } from "./topics.ts";

/** How status events are written: the specification's structured JSON, or binary mode in the Confluent wire format. */
export type StatusEventFormat = "json" | "protobuf" | "avro";

export const STATUS_EVENT_TYPE = "com.platform.notification.message.status.updated.v1";

/** Where our events say they come from (CloudEvents `source`). */
export const EVENT_SOURCE = "/notification-service";

/**
 * Status events as structured CloudEvents in JSON (the specification's form), keyed by
 * message id so that one message's events keep their order. The id is the message's and
 * the status's: an event published twice (the relay crashed after Kafka took it) is the
 * same event to a consumer that drops repeats.
 */
export class StructuredStatusEvents implements StatusEventEncoder {
  encode(events: MessageStatusEvent[]): OutboxEvent[] {
    return events.map((event) => ({
      topic: TOPICS.events,
      key: event.messageId,
      headers: { "content-type": "application/cloudevents+json; charset=UTF-8" },
      value: Buffer.from(
        `{"specversion":"1.0","id":${JSON.stringify(`${event.messageId}:${event.status}`)},"source":"${EVENT_SOURCE}",` +
          `"type":"${STATUS_EVENT_TYPE}","subject":${JSON.stringify(event.messageId)},` +
          `"time":"${event.occurredAt.toISOString()}","datacontenttype":"application/json",` +
          `"data":${statusUpdatedJson(event)}}`,
        "utf8",
      ),
    }));
  }
}

/**
 * The event's data exactly as protobuf-es's `toJsonString` writes the contract's message
 * (proto3 JSON: fields in the order declared, empty strings and zeros left out, timestamps
 * in RFC 3339 with no fraction or three digits of it), written directly: the generic writer
 * was 7% of a campaign worker's CPU. A test holds both to the same text.
 */
export function statusUpdatedJson(event: MessageStatusEvent): string {
  const fields = [
    text("messageId", event.messageId),
    text("requestId", event.requestId),
    text("correlationId", event.correlationId),
    text("campaignId", event.campaignId),
    text("campaignVariant", event.campaignVariant),
    text("userId", event.userId),
    text("channel", event.channel),
    text("status", event.status),
    text("reason", event.reason),
    text("reasonDetail", event.reasonDetail),
    text("provider", event.provider),
    text("providerMessageId", event.providerMessageId),
    text("templateName", event.templateName),
    event.templateVersion ? `"templateVersion":${event.templateVersion}` : "",
    event.attempt ? `"attempt":${event.attempt}` : "",
    `"occurredAt":"${rfc3339(event.occurredAt)}"`,
    `"acceptedAt":"${rfc3339(event.acceptedAt)}"`,
    text("priority", event.priority),
  ];
  return `{${fields.filter((field) => field !== "").join(",")}}`;
}

function text(name: string, value: string | undefined): string {
  return value ? `"${name}":${JSON.stringify(value)}` : "";
}

function rfc3339(at: Date): string {
  return at.toISOString().replace(".000Z", "Z");
}

/** The contract's message of a status event. */
export function statusUpdatedOf(event: MessageStatusEvent) {
  return create(MessageStatusUpdatedSchema, {
    messageId: event.messageId,
    requestId: event.requestId,
    correlationId: event.correlationId ?? "",
    campaignId: event.campaignId ?? "",
    campaignVariant: event.campaignVariant ?? "",
    userId: event.userId ?? "",
    channel: event.channel,
    status: event.status,
    reason: event.reason ?? "",
    reasonDetail: event.reasonDetail ?? "",
    provider: event.provider ?? "",
    providerMessageId: event.providerMessageId ?? "",
    templateName: event.templateName,
    templateVersion: event.templateVersion,
    attempt: event.attempt,
    occurredAt: timestampFromDate(event.occurredAt),
    acceptedAt: timestampFromDate(event.acceptedAt),
    priority: event.priority,
  });
}

/**
 * Status events in CloudEvents binary mode: the attributes in `ce_*` headers, the data in
 * Protobuf or Avro framed with its schema id (the Confluent wire format), for consumers
 * that read our registered schemas. The schema id is known once the schemas are registered
 * (at start); until then encoding throws, and the step that wanted to write is retried.
 */
export class BinaryStatusEvents implements StatusEventEncoder {
  private schemaId: number | undefined;
  private readonly avroType = avro.Type.forSchema(avroSchemaOf(MessageStatusUpdatedSchema) as avro.Schema);

  constructor(readonly format: "protobuf" | "avro") {}

  /** The subject whose schema id the events carry. */
  get subject(): string {
    return this.format === "protobuf"
      ? protobufSubjectOf(TOPICS.events)
      : avroSubjectOf(avroSchemaOf(MessageStatusUpdatedSchema));
  }

  bind(schemaIdsBySubject: Map<string, number>): void {
    const id = schemaIdsBySubject.get(this.subject);
    if (id === undefined) throw new Error(`no schema was registered under ${this.subject}`);
    this.schemaId = id;
  }

  encode(events: MessageStatusEvent[]): OutboxEvent[] {
    const schemaId = this.schemaId;
    // An API call answers 503 and is tried again by its caller; a consumer tries its chunk again.
    if (schemaId === undefined) {
      throw new DomainError(
        ErrorCatalog.unavailable,
        "status event schemas are not registered yet: try again shortly",
      );
    }
    return events.map((event) => {
      const data = statusUpdatedOf(event);
      return {
        topic: TOPICS.events,
        key: event.messageId,
        headers: {
          ce_specversion: "1.0",
          ce_id: `${event.messageId}:${event.status}`,
          ce_source: EVENT_SOURCE,
          ce_type: STATUS_EVENT_TYPE,
          ce_subject: event.messageId,
          ce_time: event.occurredAt.toISOString(),
          "content-type": this.format === "protobuf" ? "application/protobuf" : "application/avro",
        },
        value:
          this.format === "protobuf"
            ? frameProtobuf(schemaId, [0], toBinary(MessageStatusUpdatedSchema, data))
            : frameAvro(schemaId, this.avroType.toBuffer(toAvroRecord(MessageStatusUpdatedSchema, data))),
      };
    });
  }
}
