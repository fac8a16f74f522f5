import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { DomainError, ErrorCatalog } from "../../../../core/errors.ts";
import type { Logger } from "../../../../core/logger.ts";
import {
  assertValidMustache,
  DEFAULT_RENDER_LIMITS,
  parseMustache,
  renderContent,
  TemplateCompiler,
} from "../../../../core/templates/index.ts";
import {
  startParseThread,
  ThreadParser,
  type ThreadParserOptions,
} from "../../../../server/mustache/thread-parser.ts";
import { REPO_ROOT } from "../../../support/services.ts";

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const html = (bodyHtml: string) => ({ languageCode: "en", subject: "Тема", body: "", bodyHtml });

/** `tags` tags spread evenly over about `chars` characters of HTML. */
function bigTemplate(chars: number, tags: number): string {
  const gap = Math.floor(chars / tags) - "{{x}}".length;
  const filler = "<p>text</p>".repeat(Math.ceil(gap / 11)).slice(0, gap);
  return `${filler}{{x}}`.repeat(tags);
}

/** A thread that answers nothing, or that dies on its first text. */
const fakeThread = (onMessage: string) =>
  new Worker(
    `const { parentPort } = require("node:worker_threads");
     parentPort.on("message", () => { ${onMessage} });
     parentPort.postMessage({ ready: true });`,
    { eval: true },
  );
const hanging = () => fakeThread("");
const exiting = () => fakeThread("process.exit(3)");
const throwing = () => fakeThread("throw new Error('boom')");

/** Each thread from the next factory, then real ones. */
function threadsFrom(...factories: (() => Worker)[]): ThreadParserOptions["startThread"] {
  return (options) => (factories.shift() ?? (() => startParseThread(options)))();
}

const parsers: ThreadParser[] = [];
function threadParser(options: Partial<ThreadParserOptions> = {}): ThreadParser {
  const parser = new ThreadParser({ logger: silent, ...options });
  parsers.push(parser);
  return parser;
}
afterEach(async () => {
  await Promise.all(parsers.splice(0).map((parser) => parser.close()));
});

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

describe("ThreadParser", () => {
  // A timer's delay also counts the time the OS gave the cores to others: on a shared
  // two-core machine one run in many reads a stall that is not ours. The same parse inline
  // holds the loop 60-400 ms on every run, so a retry cannot hide a parse on the loop.
  it("validates and renders a maximum-size template while the event loop keeps turning", {
    retry: 2,
  }, async () => {
    const manyTags = bigTemplate(499_000, 50_000);
    const renderable = bigTemplate(499_000, 8_000);
    // The same text parsed inline holds the loop for far longer: what the thread is for.
    const inlineStarted = performance.now();
    parseMustache(manyTags);
    const inlineMs = performance.now() - inlineStarted;

    const compiler = new TemplateCompiler({ parser: threadParser() });
    // The thread's start is paid once per process, not by the measured parse.
    await compiler.compile("x".repeat(10_000));
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    await assertValidMustache(compiler, [html(manyTags), html(renderable)], DEFAULT_RENDER_LIMITS);
    const rendered = await renderContent(compiler, html(renderable), { x: "y" }, DEFAULT_RENDER_LIMITS);
    // 100,000 nodes are more than one render may visit: refused by the budget, at once.
    const refused = await failure(renderContent(compiler, html(manyTags), { x: "y" }, DEFAULT_RENDER_LIMITS));
    delay.disable();

    expect(rendered.bodyHtml.length).toBe(renderable.length - 8_000 * 4);
    expect(refused.entry).toBe(ErrorCatalog.templateRenderLimit);
    const maxMs = delay.max / 1e6;
    const figures = `event loop max delay ${maxMs.toFixed(1)} ms (p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms); the same parse inline ${inlineMs.toFixed(0)} ms`;
    expect(inlineMs, figures).toBeGreaterThan(20);
    expect(maxMs, figures).toBeLessThan(20);
  });

  it("abandons a parse that takes too long, and parses the next text on a new thread", async () => {
    const parser = threadParser({ timeoutMs: 200, startThread: threadsFrom(hanging) });
    const started = performance.now();
    const error = await failure(parser.parse("{{x}}"));
    expect(error.entry).toBe(ErrorCatalog.unavailable);
    expect(error.detail).toBe("parsing the template took more than 200 ms and was abandoned");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await parser.parse("{{x}}")).toMatchObject({ parsed: { values: "x" } });
    expect(parser.load).toEqual({ threads: 1, busy: 0, queued: 0 });
  });

  it.each([
    ["exits", exiting, "the template parser stopped (exit code 3)"],
    ["throws", throwing, "the template parser failed: boom"],
  ])("fails the parse of a thread that %s, and goes on with a new one", async (_, start, detail) => {
    const parser = threadParser({ startThread: threadsFrom(start) });
    const [first, second] = [parser.parse("{{a}}"), parser.parse("{{b}}")];
    const error = await failure(first);
    expect(error.entry).toBe(ErrorCatalog.unavailable);
    expect(error.detail).toBe(detail);
    expect(await second).toMatchObject({ parsed: { values: "b" } });
  });

  it("refuses parses beyond its queue, and fails what waits when it closes", async () => {
    const parser = threadParser({ maxQueued: 1, startThread: threadsFrom(hanging) });
    const running = failure(parser.parse("{{a}}"));
    const waiting = failure(parser.parse("{{b}}"));
    const refused = await failure(parser.parse("{{c}}"));
    expect(refused.detail).toBe("the template parser is busy: 1 templates are waiting to be parsed");
    expect(parser.load).toEqual({ threads: 1, busy: 1, queued: 1 });
    await parser.close();
    expect((await running).detail).toBe("the template parser is shut down");
    expect((await waiting).detail).toBe("the template parser is shut down");
    expect((await failure(parser.parse("{{d}}"))).detail).toBe("the template parser is shut down");
    expect(parser.load).toEqual({ threads: 0, busy: 0, queued: 0 });
  });

  it("holds the process open only while it parses, and not at all once closed", async () => {
    const handles = () => process.getActiveResourcesInfo().filter((name) => name === "MessagePort").length;
    const before = handles();
    const parser = threadParser();
    await parser.parse("{{x}}");
    expect(handles()).toBe(before);
    const hangingParser = threadParser({ startThread: threadsFrom(hanging) });
    const hung = failure(hangingParser.parse("{{x}}"));
    expect(handles()).toBe(before + 1);
    await Promise.all([parser.close(), hangingParser.close()]);
    expect((await hung).detail).toBe("the template parser is shut down");
    expect(handles()).toBe(before);
  });

  it.each([
    ["idle, without being closed", ""],
    ["closed", "await parser.close();"],
  ])("lets a process exit by itself once its thread is %s", async (_, closing) => {
    const script = join(await mkdtemp(join(tmpdir(), "thread-parser-")), "exits.ts");
    await writeFile(
      script,
      `
      import { ThreadParser } from ${JSON.stringify(join(REPO_ROOT, "server/mustache/thread-parser.ts"))};
      const logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => logger };
      const parser = new ThreadParser({ logger });
      const outcome = await parser.parse("{{#a}}{{b}}{{/a}}");
      console.log(JSON.stringify(outcome.parsed.values));
      ${closing}
    `,
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--experimental-transform-types", "--disable-warning=ExperimentalWarning", script],
      { cwd: REPO_ROOT, timeout: 10_000 },
    );
    expect(stdout.trim()).toBe('"ab"');
  });
});
