import type { DispatchJob, DispatchQueue, OutboxEvent } from "../core/sending/index.ts";
import { DISPATCH_TOPICS } from "./topics.ts";

/** What seals a job at rest: the recipient cipher (AES-256-GCM, the message id bound to it). */
export interface JobSealer {
  seal(plain: string, associatedData: string): string;
  open(sealed: string, associatedData: string): string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Dispatch jobs on the internal topics, one per priority. A job holds the address and the
 * rendered body, so it is sealed whole: Kafka keeps it on disk for days (ФЗ-152). The key
 * is the message id, which spreads jobs over the partitions and names the job for the seal.
 */
export class SealedDispatchQueue implements DispatchQueue {
  constructor(private readonly sealer: JobSealer) {}

  encode(jobs: DispatchJob[]): OutboxEvent[] {
    return jobs.map((job) => ({
      topic: DISPATCH_TOPICS[job.message.priority],
      key: job.message.messageId,
      headers: {},
      value: encoder.encode(this.sealer.seal(JSON.stringify(job), aad(job.message.messageId))),
    }));
  }

  /** The job of a record; throws when it was changed, moved to another key, or sealed with a key we lost. */
  decode(key: string, value: Uint8Array): DispatchJob {
    const job = JSON.parse(this.sealer.open(decoder.decode(value), aad(key))) as DispatchJob & {
      message: { expiresAt?: string };
      event: { acceptedAt: string };
    };
    return {
      message: {
        ...job.message,
        ...(job.message.expiresAt ? { expiresAt: new Date(job.message.expiresAt) } : {}),
      },
      event: { ...job.event, acceptedAt: new Date(job.event.acceptedAt) },
    };
  }
}

function aad(messageId: string): string {
  return `dispatch:${messageId}`;
}
