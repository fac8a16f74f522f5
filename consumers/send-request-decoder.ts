import {
  type SendRequest,
  SendRequestSchema,
} from "../gen/platform/notification/events/v1/send_request_pb.ts";
import { avroSchemaOf } from "./avro/index.ts";
import { binaryEventDecoder, type KafkaHeaders } from "./binary-cloud-event.ts";
import { type DecodedEvent, poison } from "./decoded-event.ts";
import type { SchemaRegistryClient } from "./schema-registry/index.ts";
import { structuredEventDecoder } from "./structured-cloud-event.ts";
import { TOPICS } from "./topics.ts";

export interface SendRequestDecoderOptions {
  registry: Pick<SchemaRegistryClient, "schemaById">;
  /** The largest record value accepted, in bytes. */
  maxBytes: number;
}

/** What the decoder needs of a Kafka record, as kafkajs hands it over. */
export interface IntakeRecord {
  value: Buffer | null;
  headers?: KafkaHeaders;
}

/**
 * The one decoder of the send-request topic, whatever its producer chose: a structured
 * CloudEvent (JSON envelope, no `ce_specversion` header; the CloudEvents Kafka binding tells
 * the modes apart by that header) or a binary one (attributes in `ce_*` headers, the data in
 * Protobuf or Avro in the Confluent wire format, or JSON).
 *
 * A bad record resolves to poison with its reason. It rejects only with
 * SchemaRegistryUnavailableError, when the registry cannot say what a schema id is: the record
 * is then retried, never dead-lettered.
 */
export function sendRequestDecoder(
  options: SendRequestDecoderOptions,
): (record: IntakeRecord) => Promise<DecodedEvent<SendRequest>> {
  const type = TOPICS.sendRequests;
  const structured = structuredEventDecoder({ type, data: SendRequestSchema, maxBytes: options.maxBytes });
  const binary = binaryEventDecoder({
    type,
    data: SendRequestSchema,
    // Docs play no part in reading: the schema generated in memory reads as the committed one.
    avroSchema: avroSchemaOf(SendRequestSchema),
    registry: options.registry,
    maxBytes: options.maxBytes,
  });
  return async (record) => {
    const headers = record.headers ?? {};
    const binaryMode = Object.keys(headers).some(
      (name) => name.toLowerCase() === "ce_specversion" && headers[name] !== undefined,
    );
    if (binaryMode) return binary(record.value, headers);
    if (record.value === null) return poison("not_a_cloud_event", "the record has no value");
    return structured(record.value);
  };
}
