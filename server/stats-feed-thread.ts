import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Logger } from "../core/logger.ts";
import type { Config } from "./config.ts";
import type { Metrics } from "./metrics.ts";

/** What the statistics thread tells the worker. */
export type StatsThreadReport =
  | { kind: "consuming" }
  | { kind: "counted"; counter: "flushedRows" | "failedFlushes" | "droppedRows"; value: number }
  | { kind: "buffered"; rows: number }
  | { kind: "stopped" };

/** What the worker tells it: stop taking events, and write what is buffered before `deadline` (epoch ms). */
export type StatsThreadStop = { kind: "stop"; deadline: number };

// The thread's code beside this file, as server/mustache/thread-parser.ts finds its own.
const THREAD_MODULE = new URL(`./stats-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * The statistics feed (status events → ClickHouse) on a thread of its own: reading thousands of
 * events and building their rows took a fifth of the worker's event loop and held it for tens
 * of milliseconds at a time, and every send's latency waited behind it. Its counters and
 * buffered rows reach the process's metrics; a thread that dies is started again.
 */
export class StatsFeedThread {
  private thread: Worker | undefined;
  private bufferedRows = 0;
  private stopping = false;
  private stopped: (() => void) | undefined;

  constructor(
    private readonly config: Config,
    private readonly metrics: Metrics["statsWriter"],
    private readonly logger: Logger,
  ) {
    metrics.observeBufferedRows(() => this.bufferedRows);
  }

  /** Resolves once its consumer joined its group, or once a stop began. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      const thread = new Worker(THREAD_MODULE, { workerData: { role: this.config.role } });
      this.thread = thread;
      thread.on("message", (report: StatsThreadReport) => {
        if (report.kind === "consuming") resolve();
        else if (report.kind === "counted") this.metrics[report.counter].inc(report.value);
        else if (report.kind === "buffered") this.bufferedRows = report.rows;
        else this.stopped?.();
      });
      thread.on("error", (error) => this.logger.error({ err: error }, "the statistics thread failed"));
      thread.on("exit", (code) => {
        this.thread = undefined;
        if (this.stopping) {
          this.stopped?.();
          resolve();
          return;
        }
        this.logger.error({ code }, "the statistics thread ended; starting it again");
        setTimeout(() => void this.start().then(resolve), 1_000).unref();
      });
    });
  }

  /** Stops it and waits for what it buffered to be written, up to `deadline` (epoch ms). */
  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    const thread = this.thread;
    if (!thread) return;
    const ended = new Promise<void>((resolve) => {
      this.stopped = resolve;
    });
    thread.postMessage({ kind: "stop", deadline } satisfies StatsThreadStop);
    const late = setTimeout(() => void thread.terminate(), Math.max(0, deadline - Date.now()) + 1_000);
    await ended;
    clearTimeout(late);
    await thread.terminate();
  }
}
