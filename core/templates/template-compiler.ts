import { setImmediate as nextTurn } from "node:timers/promises";
import { type CompiledTemplate, compileAtOnce, compileParsed } from "./compiled-template.ts";
import { type MustacheParser, parseMustache } from "./mustache-parser.ts";

export interface TemplateCompilerOptions {
  /** Parses the texts longer than `inlineMaxChars`, away from the event loop (server/mustache/). */
  parser: MustacheParser;
  /**
   * Texts up to this length are parsed on the calling thread: at 4 KiB mustache.js takes
   * about 0.4 ms, at 8 KiB 0.7 ms, at 19 KB 2.5-7 ms (`npm run bench:render`), while a round
   * trip to the thread takes milliseconds of latency for any text.
   */
  inlineMaxChars?: number;
  /** Weight the cache keeps: the characters of each text plus NODE_WEIGHT for each of its nodes. */
  cacheMaxWeight?: number;
}

/** Thrown for text mustache.js cannot parse, with its message. */
export class MustacheSyntaxError extends Error {
  override readonly name = "MustacheSyntaxError";
}

// A node's objects take about this many bytes.
const NODE_WEIGHT = 64;
// Work done on the event loop before letting it turn: inline parses and node building add
// up across the fields and locales of one request and across concurrent requests.
const SLICE_MS = 2;

/**
 * Turns template text into the nodes the renderer walks, never holding the event loop for
 * more than a few milliseconds: short texts are parsed inline, the rest by `parser`, and
 * nodes are built in slices. Keeps what it compiled lately (one instance per process, built
 * in the composition root, so the API and the send pipeline share it).
 */
export class TemplateCompiler {
  private readonly parser: MustacheParser;
  private readonly inlineMaxChars: number;
  private readonly cacheMaxWeight: number;
  // Bounded by weight, evicting the least recently used: a running service's templates fit
  // many times over, and any text beyond them costs no memory for long.
  private readonly cache = new Map<string, { compiled: CompiledTemplate; weight: number }>();
  private cachedWeight = 0;
  /** Texts being compiled: a burst of first renders of one version parses it once. */
  private readonly compiling = new Map<string, Promise<CompiledTemplate>>();
  /** When the work of this turn of the event loop began; undefined once it turned. */
  private sliceStartedAt: number | undefined;

  constructor(options: TemplateCompilerOptions) {
    this.parser = options.parser;
    this.inlineMaxChars = options.inlineMaxChars ?? 4096;
    this.cacheMaxWeight = options.cacheMaxWeight ?? 8 * 1024 * 1024;
  }

  /** The template compiled, from the cache when it was compiled lately. Throws MustacheSyntaxError for text mustache.js cannot parse. */
  compile(text: string): Promise<CompiledTemplate> {
    const hit = this.cache.get(text);
    if (hit) {
      this.cache.delete(text);
      this.cache.set(text, hit);
      return Promise.resolve(hit.compiled);
    }
    let pending = this.compiling.get(text);
    if (!pending) {
      pending = this.compileAnew(text).finally(() => this.compiling.delete(text));
      this.compiling.set(text, pending);
    }
    return pending;
  }

  /** Texts in the cache and their weight, for tests and metrics. */
  get cached(): { entries: number; weight: number } {
    return { entries: this.cache.size, weight: this.cachedWeight };
  }

  private async compileAnew(text: string): Promise<CompiledTemplate> {
    if (text.length <= this.inlineMaxChars) {
      await this.ownTurn();
      const outcome = parseMustache(text);
      if ("syntaxError" in outcome) throw new MustacheSyntaxError(outcome.syntaxError);
      // Few nodes: built at once, in the same slice.
      return this.remember(text, compileAtOnce(outcome.parsed));
    }
    const outcome = await this.parser.parse(text);
    if ("syntaxError" in outcome) throw new MustacheSyntaxError(outcome.syntaxError);
    const steps = compileParsed(outcome.parsed);
    for (;;) {
      await this.ownTurn();
      const step = steps.next();
      if (step.done) return this.remember(text, step.value);
    }
  }

  // Waits for the event loop to turn if this turn's work has taken SLICE_MS already.
  private async ownTurn(): Promise<void> {
    if (this.sliceStartedAt !== undefined && performance.now() - this.sliceStartedAt >= SLICE_MS) {
      await nextTurn();
    }
    if (this.sliceStartedAt === undefined) {
      this.sliceStartedAt = performance.now();
      // Runs before the `nextTurn` of any work that comes after it in this turn.
      setImmediate(() => {
        this.sliceStartedAt = undefined;
      });
    }
  }

  private remember(text: string, compiled: CompiledTemplate): CompiledTemplate {
    const weight = text.length + compiled.nodeCount * NODE_WEIGHT;
    if (weight > this.cacheMaxWeight) return compiled;
    this.cache.set(text, { compiled, weight });
    this.cachedWeight += weight;
    for (const [oldest, entry] of this.cache) {
      if (this.cachedWeight <= this.cacheMaxWeight) break;
      this.cache.delete(oldest);
      this.cachedWeight -= entry.weight;
    }
    return compiled;
  }
}
