import Mustache from "mustache";
import { describe, expect, it } from "vitest";
import { DomainError, ErrorCatalog } from "../../../../core/errors.ts";
import {
  assertValidMustache,
  DEFAULT_RENDER_LIMITS,
  InlineMustacheParser,
  type MustacheParser,
  MustacheSyntaxError,
  type ParseOutcome,
  renderContent,
  TemplateCompiler,
} from "../../../../core/templates/index.ts";

/** The inline parser, counting the texts it is given. */
function countingParser(): MustacheParser & { texts: string[] } {
  const inline = new InlineMustacheParser();
  const texts: string[] = [];
  return {
    texts,
    parse(text: string): Promise<ParseOutcome> {
      texts.push(text);
      return inline.parse(text);
    },
  };
}

const html = (bodyHtml: string) => ({ languageCode: "en", subject: "", body: "", bodyHtml });

describe("TemplateCompiler", () => {
  it("parses short texts inline and hands longer ones to its parser", async () => {
    const parser = countingParser();
    const compiler = new TemplateCompiler({ parser, inlineMaxChars: 10 });
    await compiler.compile("{{short}}");
    await compiler.compile("{{a long one}}");
    expect(parser.texts).toEqual(["{{a long one}}"]);
  });

  it("parses a text once when several renders ask for it at the same time", async () => {
    const parser = countingParser();
    const compiler = new TemplateCompiler({ parser, inlineMaxChars: 0 });
    const text = "{{#a}}{{b}}{{/a}}";
    const [first, second] = await Promise.all([compiler.compile(text), compiler.compile(text)]);
    expect(first).toBe(second);
    expect(await compiler.compile(text)).toBe(first);
    expect(parser.texts).toEqual([text]);
  });

  it("builds the nodes of a long template in slices to the same tree mustache.js renders", async () => {
    // Sections open across slice boundaries (4096 nodes each), one inside another.
    const item = "<li>{{title}} {{#tags}}[{{.}}]{{/tags}}{{^tags}}none{{/tags}}</li>";
    const text = `<ul>{{#items}}${item.repeat(600)}{{/items}}</ul>{{#outer}}${"{{x}}.".repeat(3000)}{{/outer}}`;
    const view = {
      items: [
        { title: "A", tags: ["n", "h"] },
        { title: "B", tags: [] },
      ],
      outer: { x: 1 },
    };
    const compiler = new TemplateCompiler({ parser: new InlineMustacheParser(), inlineMaxChars: 0 });
    const limits = { ...DEFAULT_RENDER_LIMITS, maxSteps: 1_000_000, maxOutputBytes: 4 * 1024 * 1024 };
    const rendered = await renderContent(compiler, html(text), view, limits);
    expect(rendered.bodyHtml).toBe(Mustache.render(text, view));
  });

  it("keeps its cache within its weight, evicting the least recently used", async () => {
    // Weight: the text's characters plus 64 for each node.
    const compiler = new TemplateCompiler({ parser: new InlineMustacheParser(), cacheMaxWeight: 1000 });
    const text = (index: number) => `${String(index).padStart(3, "0")}${"x".repeat(200)}`; // 203 + 64
    for (const index of [1, 2, 3]) await compiler.compile(text(index));
    expect(compiler.cached).toEqual({ entries: 3, weight: 3 * 267 });
    const first = await compiler.compile(text(1)); // now the most recently used
    await compiler.compile(text(4));
    expect(compiler.cached).toEqual({ entries: 3, weight: 3 * 267 });
    expect(await compiler.compile(text(1))).toBe(first);
    // The text past its weight alone is compiled each time and never kept.
    await compiler.compile("y".repeat(2000));
    expect(compiler.cached.entries).toBe(3);
    expect(compiler.cached.weight).toBeLessThanOrEqual(1000);
  });

  it("reports mustache.js's message for text it cannot parse, from either path", async () => {
    for (const inlineMaxChars of [0, 4096]) {
      const compiler = new TemplateCompiler({ parser: new InlineMustacheParser(), inlineMaxChars });
      await expect(compiler.compile("{{#open}}")).rejects.toThrow(MustacheSyntaxError);
      await expect(compiler.compile("{{#open}}")).rejects.toThrow('Unclosed section "open" at 9');
    }
  });

  it("lets a failure of the parser itself through, not as a problem of the template", async () => {
    const failing: MustacheParser = {
      parse: () => Promise.reject(new DomainError(ErrorCatalog.unavailable, "the template parser is busy")),
    };
    const compiler = new TemplateCompiler({ parser: failing, inlineMaxChars: 0 });
    const error = await assertValidMustache(compiler, [html("{{x}}")], DEFAULT_RENDER_LIMITS).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).entry).toBe(ErrorCatalog.unavailable);
  });

  it("lets the event loop turn between inline parses that add up", async () => {
    const compiler = new TemplateCompiler({ parser: new InlineMustacheParser() });
    // 300 fields of 4 KiB: about 100 ms of parsing, which must not run in one go.
    const locales = Array.from({ length: 100 }, (_, index) => ({
      languageCode: `l${index}`,
      subject: `${index}${"<p>{{a}} text</p>".repeat(240)}`,
      body: `${index}${"<b>{{b}} text</b>".repeat(240)}`,
      bodyHtml: `${index}${"<i>{{c}} text</i>".repeat(240)}`,
    }));
    let turns = 0;
    const ticking = setInterval(() => turns++, 1);
    const started = performance.now();
    await assertValidMustache(compiler, locales, DEFAULT_RENDER_LIMITS);
    const ms = performance.now() - started;
    clearInterval(ticking);
    expect(turns, `${turns} timer turns in ${ms.toFixed(0)} ms`).toBeGreaterThan(ms / 10);
  });
});
