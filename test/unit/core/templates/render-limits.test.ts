import { randomUUID } from "node:crypto";
import Mustache from "mustache";
import { describe, expect, it } from "vitest";
import { DomainError, ErrorCatalog } from "../../../../core/errors.ts";
import {
  assertValidMustache,
  DEFAULT_RENDER_LIMITS,
  InlineMustacheParser,
  type LocaleContent,
  type RenderLimits,
  renderContent,
  TemplateCompiler,
  type Variables,
} from "../../../../core/templates/index.ts";

const compiler = new TemplateCompiler({ parser: new InlineMustacheParser() });
const html = (bodyHtml: string): LocaleContent => ({ languageCode: "en", subject: "", body: "", bodyHtml });
const nested = (depth: number, inner = "") => `${"{{#a}}".repeat(depth)}${inner}${"{{/a}}".repeat(depth)}`;
const list = (length: number, item: (index: number) => unknown = (index) => index) =>
  Array.from({ length }, (_, index) => item(index));
const limits = (overrides: Partial<RenderLimits>): RenderLimits => ({
  ...DEFAULT_RENDER_LIMITS,
  ...overrides,
});

/** The error a call threw, or a failure when it did not throw. */
async function thrown(call: () => Promise<unknown>): Promise<DomainError> {
  try {
    await call();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a DomainError, nothing was thrown");
}

async function timed<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await call();
  return { result, ms: performance.now() - started };
}

describe("the section depth limit", () => {
  it("refuses 3,000 nested sections when a version is written, with the field's pointer", async () => {
    const error = await thrown(() =>
      assertValidMustache(
        compiler,
        [html("ok"), { ...html(nested(3000, "{{x}}")), body: nested(30_000) }],
        DEFAULT_RENDER_LIMITS,
      ),
    );
    expect(error.entry).toBe(ErrorCatalog.validation);
    expect(error.problems.map((problem) => problem.source.pointer)).toEqual([
      "/locales/1/body",
      "/locales/1/body_html",
    ]);
    expect(error.problems[1]?.detail).toBe(
      `body_html nests sections 3000 deep, more than ${DEFAULT_RENDER_LIMITS.maxSectionDepth} (TEMPLATE_MAX_SECTION_DEPTH)`,
    );
  });

  it("allows exactly the limit, inverted sections counted too", async () => {
    const atLimit = `${"{{#a}}{{^b}}".repeat(3)}{{/b}}{{/a}}{{/b}}{{/a}}{{/b}}{{/a}}`;
    await expect(
      assertValidMustache(compiler, [html(atLimit)], limits({ maxSectionDepth: 6 })),
    ).resolves.toBeUndefined();
    const error = await thrown(() =>
      assertValidMustache(compiler, [html(atLimit)], limits({ maxSectionDepth: 5 })),
    );
    expect(error.detail).toContain("6 deep, more than 5");
  });

  it("stops a stored version deeper than today's limit at render, before rendering anything", async () => {
    const error = await thrown(() =>
      renderContent(compiler, html(nested(3000, "{{x}}")), { a: true, x: "y" }, DEFAULT_RENDER_LIMITS),
    );
    expect(error.entry).toBe(ErrorCatalog.templateRenderLimit);
    expect(error.detail).toContain("body_html nests sections 3000 deep");
  });
});

describe("the step limit", () => {
  it("stops 4 nested sections over 140 items at once, naming the limit and its value", async () => {
    const { result: error, ms } = await timed(() =>
      thrown(() => renderContent(compiler, html(nested(4)), { a: list(140) }, DEFAULT_RENDER_LIMITS)),
    );
    expect(error.entry).toBe(ErrorCatalog.templateRenderLimit);
    expect(error.detail).toBe(
      `rendering body_html with these variables would take more than ${DEFAULT_RENDER_LIMITS.maxSteps} steps (TEMPLATE_RENDER_MAX_STEPS)`,
    );
    // mustache.js took 5.9 s over this; the budget stops it within milliseconds.
    expect(ms).toBeLessThan(500);
  });

  it("lets a render within the limit through and stops the same render under a smaller one", async () => {
    const content = html("{{#items}}<li>{{name}}</li>{{/items}}");
    const variables = { items: list(100, (index) => ({ name: `item ${index}` })) };
    expect(
      (await renderContent(compiler, content, variables, limits({ maxSteps: 10_000 }))).bodyHtml,
    ).toContain("item 99");
    // Every item is at least one step, so half as many steps as items cannot be enough.
    expect(
      (await thrown(() => renderContent(compiler, content, variables, limits({ maxSteps: 50 })))).detail,
    ).toContain("more than 50 steps");
  });

  it("is shared by the fields of one render", async () => {
    const content = {
      languageCode: "en",
      subject: nested(1, "x"),
      body: nested(1, "x"),
      bodyHtml: nested(1, "x"),
    };
    const variables = { a: list(40) };
    const oneField = { ...content, subject: "", body: "" };
    await expect(
      renderContent(compiler, oneField, variables, limits({ maxSteps: 300 })),
    ).resolves.toBeDefined();
    expect(
      (await thrown(() => renderContent(compiler, content, variables, limits({ maxSteps: 300 })))).detail,
    ).toContain("rendering body_html");
  });

  // Each pair differs only in the work under test: the cheap one fits the limit, the costly one must not.
  it.each([
    ["list items printed", { a: list(10), b: list(5) }, { a: list(10), b: list(1000) }],
    ["entities escaped", { a: list(10), b: "abc".repeat(300) }, { a: list(10), b: "<&>".repeat(300) }],
  ] as [string, Variables, Variables][])("counts %s", async (_, cheap, costly) => {
    const content = html("{{#a}}{{b}}{{/a}}");
    const small = limits({ maxSteps: 2000 });
    await expect(renderContent(compiler, content, cheap, small)).resolves.toBeDefined();
    const error = await thrown(() => renderContent(compiler, content, costly, small));
    expect(error.entry).toBe(ErrorCatalog.templateRenderLimit);
    expect(error.detail).toContain("more than 2000 steps (TEMPLATE_RENDER_MAX_STEPS)");
  });

  it("counts the parts of a dotted path walked", async () => {
    const chain = (depth: number): Variables => (depth === 0 ? { p: "end" } : { p: chain(depth - 1) });
    const variables = { a: list(40), ...chain(60) };
    const longPath = html(`{{#a}}{{${list(61, () => "p").join(".")}}}{{/a}}`);
    const small = limits({ maxSteps: 2000 });
    expect((await renderContent(compiler, longPath, variables, DEFAULT_RENDER_LIMITS)).bodyHtml).toBe(
      "end".repeat(40),
    );
    await expect(
      renderContent(compiler, html("{{#a}}{{p.p}}{{/a}}"), variables, small),
    ).resolves.toBeDefined();
    expect((await thrown(() => renderContent(compiler, longPath, variables, small))).detail).toContain(
      "more than 2000 steps",
    );
  });

  it("counts every context frame a name is searched in", async () => {
    const fifty = "{{m}}".repeat(50);
    const small = limits({ maxSteps: 300 });
    await expect(renderContent(compiler, html(fifty), { a: [{}] }, small)).resolves.toBeDefined();
    const error = await thrown(() => renderContent(compiler, html(nested(12, fifty)), { a: [{}] }, small));
    expect(error.detail).toContain("more than 300 steps");
  });
});

describe("the output limit", () => {
  it("allows exactly the limit in UTF-8 bytes and refuses one byte more", async () => {
    const content = html("{{#a}}{{word}}{{/a}}");
    const variables = { a: list(10), word: "Привет" }; // 6 letters, 12 bytes
    expect(
      (await renderContent(compiler, content, variables, limits({ maxOutputBytes: 120 }))).bodyHtml,
    ).toBe("Привет".repeat(10));
    const error = await thrown(() =>
      renderContent(compiler, content, variables, limits({ maxOutputBytes: 119 })),
    );
    expect(error.entry).toBe(ErrorCatalog.templateRenderLimit);
    expect(error.detail).toBe(
      "the rendered body_html would exceed 119 bytes (TEMPLATE_RENDER_MAX_OUTPUT_BYTES)",
    );
  });

  it("counts escaped text as written, and names the plain field that overflows", async () => {
    expect(
      (
        await thrown(() =>
          renderContent(compiler, html("{{v}}"), { v: "<".repeat(10) }, limits({ maxOutputBytes: 39 })),
        )
      ).detail,
    ).toContain("exceed 39 bytes");
    const subject = { ...html(""), subject: "{{{v}}}" };
    expect(
      (
        await thrown(() =>
          renderContent(compiler, subject, { v: "x".repeat(2000) }, limits({ maxOutputBytes: 1024 })),
        )
      ).detail,
    ).toBe("the rendered subject would exceed 1024 bytes (TEMPLATE_RENDER_MAX_OUTPUT_BYTES)");
  });

  it("stops output that would pass the largest string V8 can build without building it", async () => {
    // 24^5 copies of 5 KiB: 40 GiB, where mustache.js failed with "Invalid string length" after 22 s.
    const variables = { a: list(24), big: "x".repeat(5 * 1024) };
    const unlimitedWork = limits({ maxSteps: Number.MAX_SAFE_INTEGER });
    const heapBefore = process.memoryUsage().heapUsed;
    const { result: error, ms } = await timed(() =>
      thrown(() => renderContent(compiler, html(nested(5, "{{{big}}}")), variables, unlimitedWork)),
    );
    expect(error.entry).toBe(ErrorCatalog.templateRenderLimit);
    expect(error.detail).toContain(`exceed ${DEFAULT_RENDER_LIMITS.maxOutputBytes} bytes`);
    expect(ms).toBeLessThan(500);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it("refuses a single value longer than what is left before escaping it", async () => {
    const huge = "<".repeat(4 * 1024 * 1024);
    const { result: error, ms } = await timed(() =>
      thrown(() =>
        renderContent(compiler, html("{{v}}"), { v: huge }, limits({ maxSteps: Number.MAX_SAFE_INTEGER })),
      ),
    );
    expect(error.detail).toContain("TEMPLATE_RENDER_MAX_OUTPUT_BYTES");
    expect(ms).toBeLessThan(50);
  });
});

describe("parsed templates", () => {
  it("stay out of mustache.js's global cache, which nothing ever empties", async () => {
    const text = `{{#a}}{{b}}{{/a}} ${randomUUID()}`;
    const cacheKey = `${text}:{{:}}`;
    await renderContent(compiler, html(text), { a: [{ b: 1 }] }, DEFAULT_RENDER_LIMITS);
    await assertValidMustache(compiler, [html(text)], DEFAULT_RENDER_LIMITS);
    expect(Mustache.templateCache?.get(cacheKey)).toBeUndefined();
    Mustache.parse(text);
    expect(Mustache.templateCache?.get(cacheKey)).toBeDefined();
  });
});
