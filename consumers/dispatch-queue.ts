import { randomUUID } from "node:crypto";
import type { DispatchJob, DispatchQueue, OutboxEvent, Priority } from "../core/sending/index.ts";
import { DISPATCH_TOPICS } from "./topics.ts";

/** What seals a job at rest: the recipient cipher (AES-256-GCM, the record's key bound to it). */
export interface JobSealer {
  seal(plain: string, associatedData: string): string;
  open(sealed: string, associatedData: string): string;
}

/**
 * Jobs per record at most, and the JSON of a record at most (one larger job goes alone). A
 * record of jobs is sealed, published, fetched and opened once for all of them, which costs
 * about as much as doing so for one; the bytes keep it well below Kafka's 1 MB for a record.
 */
export const JOBS_PER_RECORD = 200;
const RECORD_BYTES = 256 * 1024;

const decoder = new TextDecoder();

/**
 * Dispatch jobs on the internal topics, one per priority, in records of several jobs of one
 * priority. A job holds the address and the rendered body, so a record is sealed whole: Kafka
 * keeps it on disk for days (ФЗ-152). The key is random: it spreads the records over the
 * partitions and names the record for the seal.
 */
export class SealedDispatchQueue implements DispatchQueue {
  constructor(private readonly sealer: JobSealer) {}

  encode(jobs: DispatchJob[]): OutboxEvent[] {
    const byPriority = new Map<Priority, DispatchJob[]>();
    for (const job of jobs) {
      const same = byPriority.get(job.message.priority) ?? [];
      same.push(job);
      byPriority.set(job.message.priority, same);
    }
    const records: OutboxEvent[] = [];
    for (const [priority, same] of byPriority) {
      let batch: string[] = [];
      let bytes = 0;
      const seal = () => {
        const key = randomUUID();
        const sealed = this.sealer.seal(`[${batch.join(",")}]`, aad(key));
        records.push({
          topic: DISPATCH_TOPICS[priority],
          key,
          headers: {},
          value: Buffer.from(sealed, "utf8"),
        });
        batch = [];
        bytes = 0;
      };
      for (const job of same) {
        const json = JSON.stringify(job);
        if (batch.length > 0 && (batch.length === JOBS_PER_RECORD || bytes + json.length > RECORD_BYTES))
          seal();
        batch.push(json);
        bytes += json.length;
      }
      if (batch.length > 0) seal();
    }
    return records;
  }

  /** The jobs of a record; throws when it was changed, moved to another key, or sealed with a key we lost. */
  decode(key: string, value: Uint8Array): DispatchJob[] {
    const opened = JSON.parse(this.sealer.open(decoder.decode(value), aad(key))) as StoredJob | StoredJob[];
    // A record written before jobs were batched holds one job, keyed by its message id.
    return (Array.isArray(opened) ? opened : [opened]).map((job) => ({
      message: {
        ...job.message,
        ...(job.message.expiresAt ? { expiresAt: new Date(job.message.expiresAt) } : {}),
      },
      event: { ...job.event, acceptedAt: new Date(job.event.acceptedAt) },
      ...(job.retry ? { retry: job.retry } : {}),
    }));
  }
}

/** A job as JSON gives it back: its dates as text. */
type StoredJob = DispatchJob & { message: { expiresAt?: string }; event: { acceptedAt: string } };

function aad(key: string): string {
  return `dispatch:${key}`;
}
