export {
  type AvroRecord,
  type AvroRecordValue,
  avroSchemaOf,
  fromAvroRecord,
  toAvroRecord,
} from "./avro/index.ts";
export { type BatchConsumerOptions, type RecordChunk, runBatchConsumer } from "./batch-consumer.ts";
export { type BinaryEventOptions, binaryEventDecoder, type KafkaHeaders } from "./binary-cloud-event.ts";
export { StructuredCampaignEvents } from "./campaign-status-events.ts";
export { CommittedEventPublisher, type CommittedEventPublisherOptions } from "./committed-event-publisher.ts";
export {
  type ConfluentFrame,
  frameAvro,
  frameProtobuf,
  type Unframed,
  unframeAvro,
  unframeProtobuf,
} from "./confluent-framing.ts";
export { type DeadLetter, DeadLetterTopic } from "./dead-letters.ts";
export type { DecodedEvent, Poison, PoisonReason } from "./decoded-event.ts";
export { type DispatchMetrics, dispatchJobs } from "./dispatch-consumer.ts";
export { JOBS_PER_RECORD, type JobSealer, SealedDispatchQueue } from "./dispatch-queue.ts";
export { EVENT_TYPES, type EventType } from "./event-types.ts";
export { keyPartitioner, murmur2 } from "./key-partitioner.ts";
export { OutboxRelay, type OutboxRelayOptions, sendOutboxEvents } from "./outbox-relay.ts";
export {
  avroSubjectOf,
  protobufSubjectOf,
  type RegisteredSchema,
  type RegisterOptions,
  registerOurSchemas,
  type SchemaLookup,
  type SchemaReference,
  SchemaRegistryClient,
  type SchemaRegistryClientOptions,
  SchemaRegistryRefusedError,
  SchemaRegistryUnavailableError,
  type SchemaType,
} from "./schema-registry/index.ts";
export {
  type IntakeRecord,
  type SendRequestDecoderOptions,
  sendRequestDecoder,
} from "./send-request-decoder.ts";
export {
  type IntakeMetrics,
  type SendRequestIntakeDeps,
  type SendRequestRecordDecoder,
  sendRequestIntake,
} from "./send-request-intake.ts";
export { statsFeed, statsRowOf, statusEventReader } from "./stats-feed.ts";
export {
  BinaryStatusEvents,
  EVENT_SOURCE,
  STATUS_EVENT_TYPE,
  type StatusEventFormat,
  StructuredStatusEvents,
  statusUpdatedOf,
} from "./status-events.ts";
export { type StructuredEventOptions, structuredEventDecoder } from "./structured-cloud-event.ts";
export { DISPATCH_TOPICS, ensureTopics, TOPICS, topicConfigs } from "./topics.ts";
