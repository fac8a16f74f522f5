import type { Logger } from "../core/logger.ts";
import type { DispatchJob } from "../core/sending/index.ts";
import type { DispatchReport } from "../dispatch/index.ts";
import type { RecordChunk } from "./batch-consumer.ts";
import type { SealedDispatchQueue } from "./dispatch-queue.ts";

export interface DispatchMetrics {
  dispatched(channel: string, outcome: string, count: number): void;
  undecodableRecords(count: number): void;
}

/** The handler of the dispatch topics: records of jobs opened, their jobs handed to the dispatcher, outcomes counted. */
export function dispatchJobs(deps: {
  queue: Pick<SealedDispatchQueue, "decode">;
  dispatcher: { dispatch(jobs: DispatchJob[]): Promise<DispatchReport> };
  metrics: DispatchMetrics;
  logger: Logger;
  /** Jobs handed to the dispatcher at once: a chunk of records may hold many more. */
  jobsPerDispatch: number;
}) {
  return async function handle(chunk: RecordChunk): Promise<void> {
    const jobs: DispatchJob[] = [];
    let undecodable = 0;
    for (const record of chunk.records) {
      try {
        jobs.push(...deps.queue.decode(record.key?.toString() ?? "", record.value ?? new Uint8Array()));
      } catch (error) {
        // Only we write these topics: a record we cannot open was sealed with a key since removed.
        undecodable++;
        deps.logger.error(
          { err: error, topic: chunk.topic, partition: chunk.partition, offset: record.offset },
          "a record of dispatch jobs could not be opened; its messages stay queued",
        );
      }
    }
    if (undecodable > 0) deps.metrics.undecodableRecords(undecodable);
    const report: DispatchReport = { outcomes: [] };
    for (let start = 0; start < jobs.length; start += deps.jobsPerDispatch) {
      if (start > 0) await chunk.heartbeat();
      const part = await deps.dispatcher.dispatch(jobs.slice(start, start + deps.jobsPerDispatch));
      report.outcomes.push(...part.outcomes);
    }
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
