// The parser of long templates: mustache.js on threads of their own, so that a maximum-size
// body (hundreds of milliseconds of parsing) never holds the event loop that answers health
// checks, requests and the send pipeline. It lives in server/, not core/: threads, their
// files and their lifecycle are infrastructure like a database pool; core only knows the
// MustacheParser port and parses short texts inline itself (TemplateCompiler).
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { MustacheParser, ParseOutcome } from "../../core/templates/index.ts";

/** What a thread is sent, and what it answers. */
export interface ParseRequest {
  id: number;
  text: string;
}
export interface ParseReply {
  id: number;
  outcome: ParseOutcome;
}
/** Sent once a thread has loaded its code: a parse's time is counted from then, not from the thread's start. */
export interface ThreadReady {
  ready: true;
}

export interface ThreadParserOptions {
  /** Threads parsing at once. One is enough for two cores: parses are rare (each version once per process). */
  threads?: number;
  /** Parses waiting for a thread; more are refused as SERVICE_UNAVAILABLE, nothing piles up in memory. */
  maxQueued?: number;
  /** A parse running longer is abandoned and its thread replaced. The largest template takes under 0.6 s. */
  timeoutMs?: number;
  /** Heap of a thread: a parse that needs more ends the thread rather than the process. */
  maxHeapMb?: number;
  logger: Logger;
  /** Starts a thread; tests start ones that hang or crash. */
  startThread?: (options: { maxHeapMb: number }) => Worker;
}

interface Job {
  id: number;
  text: string;
  resolve: (outcome: ParseOutcome) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
}

// The thread's code beside this file: parse-thread.js in dist/, parse-thread.ts when run
// from source (tests, bench), where Node strips its types.
const THREAD_URL = new URL(`./parse-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

export function startParseThread({ maxHeapMb }: { maxHeapMb: number }): Worker {
  return new Worker(THREAD_URL, { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
}

/**
 * A bounded pool of parser threads. Threads start when work comes, keep the process alive
 * only while they parse, and are ended by `close` (on shutdown). A thread that crashes or
 * times out fails its parse with SERVICE_UNAVAILABLE and is replaced by the next parse.
 */
export class ThreadParser implements MustacheParser {
  private readonly size: number;
  private readonly maxQueued: number;
  private readonly timeoutMs: number;
  private readonly maxHeapMb: number;
  private readonly logger: Logger;
  private readonly startThread: (options: { maxHeapMb: number }) => Worker;
  private readonly threads = new Set<Thread>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: ThreadParserOptions) {
    this.size = options.threads ?? 1;
    this.maxQueued = options.maxQueued ?? 64;
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.maxHeapMb = options.maxHeapMb ?? 256;
    this.logger = options.logger;
    this.startThread = options.startThread ?? startParseThread;
    if (!(this.size >= 1 && this.maxQueued >= 0 && this.timeoutMs > 0)) {
      throw new Error(
        "ThreadParser needs at least one thread, a queue of zero or more and a positive timeout",
      );
    }
  }

  parse(text: string): Promise<ParseOutcome> {
    if (this.closed) return Promise.reject(unavailable("the template parser is shut down"));
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(
        unavailable(`the template parser is busy: ${this.queue.length} templates are waiting to be parsed`),
      );
    }
    return new Promise<ParseOutcome>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, text, resolve, reject });
      this.dispatch();
    });
  }

  /** Threads running and parses waiting, for tests and metrics. */
  get load(): { threads: number; busy: number; queued: number } {
    const busy = [...this.threads].filter((thread) => thread.job).length;
    return { threads: this.threads.size, busy, queued: this.queue.length };
  }

  /** Fails what is waiting or running and ends every thread. */
  async close(): Promise<void> {
    this.closed = true;
    const closing = unavailable("the template parser is shut down");
    for (const job of this.queue.splice(0)) job.reject(closing);
    await Promise.all([...this.threads].map((thread) => this.end(thread, closing)));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const thread = this.idleThread();
      if (!thread) return;
      const job = this.queue.shift() as Job;
      thread.job = job;
      thread.worker.ref();
      if (thread.ready) this.send(thread, job);
    }
  }

  private send(thread: Thread, job: Job): void {
    thread.timer = setTimeout(() => {
      this.logger.warn({ timeoutMs: this.timeoutMs, chars: job.text.length }, "template parse timed out");
      void this.end(
        thread,
        unavailable(`parsing the template took more than ${this.timeoutMs} ms and was abandoned`),
      );
    }, this.timeoutMs);
    thread.worker.postMessage({ id: job.id, text: job.text } satisfies ParseRequest);
  }

  private idleThread(): Thread | undefined {
    for (const thread of this.threads) if (!thread.job) return thread;
    if (this.threads.size >= this.size) return undefined;
    const thread: Thread = {
      worker: this.startThread({ maxHeapMb: this.maxHeapMb }),
      ready: false,
      job: undefined,
      timer: undefined,
    };
    thread.worker.unref();
    thread.worker.on("message", (message: ParseReply | ThreadReady) => {
      if ("id" in message) {
        this.finished(thread, message);
        return;
      }
      thread.ready = true;
      if (thread.job) this.send(thread, thread.job);
    });
    thread.worker.on("error", (error) => {
      this.logger.error({ err: error }, "a template parser thread failed");
      void this.end(thread, unavailable(`the template parser failed: ${error.message}`));
    });
    thread.worker.on("exit", (code) => {
      if (!this.threads.has(thread)) return;
      this.logger.error({ code }, "a template parser thread exited");
      void this.end(thread, unavailable(`the template parser stopped (exit code ${code})`));
    });
    this.threads.add(thread);
    return thread;
  }

  private finished(thread: Thread, reply: ParseReply): void {
    const job = thread.job;
    if (!job || job.id !== reply.id) return;
    clearTimeout(thread.timer);
    thread.job = undefined;
    thread.timer = undefined;
    thread.worker.unref();
    job.resolve(reply.outcome);
    this.dispatch();
  }

  // Fails the thread's parse, if any, and ends it; the next parse starts a new one.
  private async end(thread: Thread, error: Error): Promise<void> {
    if (!this.threads.delete(thread)) return;
    clearTimeout(thread.timer);
    thread.job?.reject(error);
    thread.job = undefined;
    if (!this.closed) this.dispatch();
    await thread.worker.terminate();
  }
}

function unavailable(detail: string): DomainError {
  return new DomainError(ErrorCatalog.unavailable, detail);
}
