import type { KafkaMessage } from "kafkajs";
import type { Logger } from "../core/logger.ts";
import type { SendRequest, SendVerdict } from "../core/sending/index.ts";
import type { SendRequest as SendRequestMessage } from "../gen/platform/notification/events/v1/send_request_pb.ts";
import { sendRequestOf } from "../mappers/index.ts";
import type { RecordChunk } from "./batch-consumer.ts";
import type { DeadLetter, DeadLetterTopic } from "./dead-letters.ts";
import type { DecodedEvent } from "./decoded-event.ts";
import { turnTaker } from "./event-loop-turns.ts";
import type { IntakeRecord } from "./send-request-decoder.ts";

/** Reads a record of the send request topic, whichever mode and format it came in (sendRequestDecoder). */
export type SendRequestRecordDecoder = (record: IntakeRecord) => Promise<DecodedEvent<SendRequestMessage>>;

/** What the intake counts, per chunk. */
export interface IntakeMetrics {
  consumed(count: number): void;
  deadLettered(reason: string, count: number): void;
  /** Requests that arrived again after being accepted: sent once. */
  deduplicated(count: number): void;
  accepted(count: number): void;
}

export interface SendRequestIntakeDeps {
  decode: SendRequestRecordDecoder;
  orchestrator: { accept(requests: SendRequest[]): Promise<SendVerdict[]> };
  deadLetters: Pick<DeadLetterTopic, "send">;
  metrics: IntakeMetrics;
  logger: Logger;
  now?: () => Date;
}

/**
 * The handler of `com.platform.notification.send.request.v1`: every record is either
 * accepted by the orchestrator (or found to be a repeat) or dead-lettered with its reason,
 * so a broken record from one producer never holds up the records behind it.
 */
export function sendRequestIntake(deps: SendRequestIntakeDeps) {
  const now = deps.now ?? (() => new Date());
  return async function handle(chunk: RecordChunk): Promise<void> {
    const accepted: { record: KafkaMessage; request: SendRequest }[] = [];
    const letters: DeadLetter[] = [];
    const letter = (record: KafkaMessage, reason: string, detail: string) =>
      letters.push({ record, topic: chunk.topic, partition: chunk.partition, reason, detail });
    const receivedAt = now();
    const turn = turnTaker();
    for (const record of chunk.records) {
      await turn();
      const decoded = await deps.decode(record);
      if (decoded.kind === "poison") letter(record, decoded.reason, decoded.detail);
      else accepted.push({ record, request: sendRequestOf(decoded.data, receivedAt) });
    }
    const verdicts =
      accepted.length > 0 ? await deps.orchestrator.accept(accepted.map((item) => item.request)) : [];
    let duplicates = 0;
    for (const [index, verdict] of verdicts.entries()) {
      if (verdict.outcome === "rejected")
        letter((accepted[index] as (typeof accepted)[number]).record, verdict.reason, verdict.detail);
      if (verdict.outcome === "duplicate") duplicates++;
    }
    await deps.deadLetters.send(letters);
    deps.metrics.consumed(chunk.records.length);
    deps.metrics.deduplicated(duplicates);
    deps.metrics.accepted(verdicts.filter((verdict) => verdict.outcome === "accepted").length);
    const reasons = new Map<string, number>();
    for (const { reason } of letters) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    for (const [reason, count] of reasons) deps.metrics.deadLettered(reason, count);
    for (const { record, reason } of letters) {
      // Its key and offset find it in the dead-letter topic; the logger fingerprints a key that is an address.
      deps.logger.warn(
        {
          reason,
          key: record.key?.toString().slice(0, 128),
          partition: chunk.partition,
          offset: record.offset,
        },
        "send request dead-lettered",
      );
    }
  };
}
