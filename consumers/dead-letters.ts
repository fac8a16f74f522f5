import type { IHeaders, KafkaMessage, Producer } from "kafkajs";
import { redactErrorText } from "../core/personal-data.ts";

/** A record that can never be sent, and why. */
export interface DeadLetter {
  record: KafkaMessage;
  topic: string;
  partition: number;
  /** A short code in snake case, e.g. "not_json", "unknown_template": the metric's label too. */
  reason: string;
  detail: string;
}

/**
 * The dead-letter topic: the original key, bytes and headers as they came, and headers of
 * ours saying why and where from, so the record can be inspected, fixed and published again.
 */
export class DeadLetterTopic {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async send(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const at = new Date().toISOString();
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: letters.map((letter) => ({
        key: letter.record.key,
        value: letter.record.value,
        headers: {
          ...withoutOurs(letter.record.headers ?? {}),
          dlq_reason: letter.reason,
          // Details quote parsers and validators, which may quote the value: kept clean of addresses.
          dlq_detail: redactErrorText(letter.detail).slice(0, 2_000),
          dlq_original_topic: letter.topic,
          dlq_original_partition: String(letter.partition),
          dlq_original_offset: letter.record.offset,
          dlq_original_timestamp: letter.record.timestamp,
          dlq_at: at,
        },
      })),
    });
  }
}

// A record dead-lettered twice (published again unchanged) keeps only the latest reason.
function withoutOurs(headers: IHeaders): IHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith("dlq_")));
}
