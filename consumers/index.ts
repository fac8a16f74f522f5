export {
  type AvroRecord,
  type AvroRecordValue,
  avroSchemaOf,
  fromAvroRecord,
  toAvroRecord,
} from "./avro/index.ts";
export { type BatchConsumerOptions, type RecordChunk, runBatchConsumer } from "./batch-consumer.ts";
export {
  type ConfluentFrame,
  frameAvro,
  frameProtobuf,
  type Unframed,
  unframeAvro,
  unframeProtobuf,
} from "./confluent-framing.ts";
export { type DeadLetter, DeadLetterTopic } from "./dead-letters.ts";
export { type DispatchMetrics, dispatchJobs } from "./dispatch-consumer.ts";
export { type JobSealer, SealedDispatchQueue } from "./dispatch-queue.ts";
export { EVENT_TYPES, type EventType } from "./event-types.ts";
export { OutboxRelay, type OutboxRelayOptions } from "./outbox-relay.ts";
export {
  type IntakeMetrics,
  type SendRequestIntakeDeps,
  type SendRequestRecordDecoder,
  sendRequestIntake,
  structuredRecordDecoder,
} from "./send-request-intake.ts";
export { statsFeed, statsRowOf } from "./stats-feed.ts";
export { EVENT_SOURCE, STATUS_EVENT_TYPE, StructuredStatusEvents, statusUpdatedOf } from "./status-events.ts";
export {
  type DecodedEvent,
  type PoisonReason,
  type StructuredEventOptions,
  structuredEventDecoder,
} from "./structured-cloud-event.ts";
export { DISPATCH_TOPICS, ensureTopics, TOPICS, topicConfigs } from "./topics.ts";
