// Where a worker's work waits, read from its /metrics by the benches that run one.

/** Per topic (its last two name parts): chunks handed to the stage, and their records. */
export type ChunkTotals = Map<string, { chunks: number; records: number }>;

/** `request.v1 60/s of 16.1 records, …` between two readings `seconds` apart. */
export function chunksLine(before: ChunkTotals, after: ChunkTotals, seconds: number): string {
  const parts: string[] = [];
  for (const [topic, { chunks, records }] of after) {
    const was = before.get(topic) ?? { chunks: 0, records: 0 };
    const count = chunks - was.chunks;
    if (count <= 0) continue;
    parts.push(
      `${topic} ${(count / seconds).toFixed(0)}/s of ${((records - was.records) / count).toFixed(1)} records`,
    );
  }
  return parts.join(", ") || "none read";
}

/** Where the worker's work waits, from its /metrics: the outbox backlog and each group's lag. */
export class WorkerQueues {
  private readonly peaks = new Map<string, number>();
  /** `url`: the worker's HTTP address, none while it is stopped. */
  constructor(private readonly url: () => string | undefined) {}

  async sample(): Promise<string> {
    const url = this.url();
    if (url === undefined) return "";
    let text = "";
    try {
      text = await (await fetch(`${url}/metrics`)).text();
    } catch (error) {
      return `no metrics: ${(error as Error).message}`;
    }
    const current: [string, number][] = [];
    for (const match of text.matchAll(/^notification_(outbox_backlog|consumer_lag)\{([^}]*)\} (\S+)$/gm)) {
      const group = /group="notification-service\.([\w.]+)"/.exec(match[2] ?? "")?.[1];
      const name = match[1] === "consumer_lag" ? `lag ${group}` : "outbox";
      const value = Number(match[3]);
      current.push([name, value]);
      this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, value));
    }
    // The event loop's delay since the previous scrape (prom-client resets it on each): how long one
    // stage's synchronous work holds up all the others.
    for (const match of text.matchAll(/^nodejs_eventloop_lag_(p99|max)_seconds\{[^}]*\} (\S+)$/gm)) {
      const name = `loop delay ${match[1]} ms`;
      const value = Math.round(Number(match[2]) * 1000);
      current.push([name, value]);
      this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, value));
    }
    // The main thread's heap, and what lives outside it (Buffers, most of them Kafka's and the
    // database's): RSS alone cannot tell a leak from memory V8 or malloc keeps for later.
    for (const [metric, name] of [
      ["nodejs_heap_size_used_bytes", "heap used MiB"],
      ["nodejs_external_memory_bytes", "external MiB"],
    ] as const) {
      const bytes = new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1];
      if (bytes === undefined) continue;
      const value = Math.round(Number(bytes) / 2 ** 20);
      current.push([name, value]);
      this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, value));
    }
    return current.map(([name, value]) => `${name} ${value}`).join(", ");
  }
  /** Chunks each pipeline topic handed to its stage so far, and their records; empty while the worker is stopped. */
  async chunkTotals(): Promise<ChunkTotals> {
    const totals: ChunkTotals = new Map();
    const url = this.url();
    if (url === undefined) return totals;
    let text = "";
    try {
      text = await (await fetch(`${url}/metrics`)).text();
    } catch {
      // A worker that died meanwhile: the phase still prints what it measured, the chunks as none read.
      return totals;
    }
    for (const match of text.matchAll(
      /^notification_pipeline_chunk_records_(sum|count)\{([^}]*)\} (\S+)$/gm,
    )) {
      const name = /topic="([^"]+)"/.exec(match[2] ?? "")?.[1];
      if (name === undefined) continue;
      const topic = name.split(".").slice(-2).join(".");
      const slot = totals.get(topic) ?? { chunks: 0, records: 0 };
      if (match[1] === "count") slot.chunks = Number(match[3]);
      else slot.records = Number(match[3]);
      totals.set(topic, slot);
    }
    return totals;
  }

  /** The largest of each since the previous call. */
  peaksLine(): string {
    const line = [...this.peaks].map(([name, value]) => `${name} ${value}`).join(", ");
    this.peaks.clear();
    return line || "none read";
  }
}
