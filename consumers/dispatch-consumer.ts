import type { Logger } from "../core/logger.ts";
import type { DispatchJob } from "../core/sending/index.ts";
import type { DispatchReport } from "../dispatch/index.ts";
import type { RecordChunk } from "./batch-consumer.ts";
import type { SealedDispatchQueue } from "./dispatch-queue.ts";

export interface DispatchMetrics {
  dispatched(channel: string, outcome: string, count: number): void;
  undecodableJobs(count: number): void;
}

/** The handler of the dispatch topics: jobs opened and handed to the dispatcher, outcomes counted. */
export function dispatchJobs(deps: {
  queue: Pick<SealedDispatchQueue, "decode">;
  dispatcher: { dispatch(jobs: DispatchJob[]): Promise<DispatchReport> };
  metrics: DispatchMetrics;
  logger: Logger;
}) {
  return async function handle(chunk: RecordChunk): Promise<void> {
    const jobs: DispatchJob[] = [];
    let undecodable = 0;
    for (const record of chunk.records) {
      try {
        jobs.push(deps.queue.decode(record.key?.toString() ?? "", record.value ?? new Uint8Array()));
      } catch (error) {
        // Only we write these topics: a job we cannot open was sealed with a key since removed.
        undecodable++;
        deps.logger.error(
          { err: error, topic: chunk.topic, partition: chunk.partition, offset: record.offset },
          "a dispatch job could not be opened; its message stays queued",
        );
      }
    }
    if (undecodable > 0) deps.metrics.undecodableJobs(undecodable);
    if (jobs.length === 0) return;
    const report = await deps.dispatcher.dispatch(jobs);
    const counts = new Map<string, { channel: string; outcome: string; count: number }>();
    for (const ended of report.outcomes) {
      if (ended.outcome === "failed" || ended.outcome === "expired") {
        const { messageId, requestId, channel, outcome, reason } = ended;
        deps.logger.warn({ messageId, requestId, channel, outcome, reason }, "message not sent");
      }
    }
    for (const { channel, outcome } of report.outcomes) {
      const key = `${channel} ${outcome}`;
      const slot = counts.get(key) ?? { channel, outcome, count: 0 };
      slot.count++;
      counts.set(key, slot);
    }
    for (const { channel, outcome, count } of counts.values())
      deps.metrics.dispatched(channel, outcome, count);
  };
}
