import { describe, expect, it } from "vitest";
import { DomainError } from "../../../../core/errors.ts";
import {
  assertValidMustache,
  InlineMustacheParser,
  DEFAULT_RENDER_LIMITS as LIMITS,
  renderContent,
  resolveLocale,
  TemplateCompiler,
} from "../../../../core/templates/index.ts";

const compiler = new TemplateCompiler({ parser: new InlineMustacheParser() });
const content = (languageCode: string, body = "Hi {{name}}", subject = "", bodyHtml = "") => ({
  languageCode,
  subject,
  body,
  bodyHtml,
});

describe("renderContent", () => {
  it("escapes variables in the HTML body only, and leaves triple braces raw there", async () => {
    const rendered = await renderContent(
      compiler,
      {
        languageCode: "ru",
        subject: "Заказ {{order.id}} & {{shop}}",
        body: "Итого: {{total}} <руб>",
        bodyHtml: "<p>{{shop}}</p>{{{itemsHtml}}}",
      },
      { order: { id: "A-1" }, shop: "Tom & Jerry", total: "1500", itemsHtml: "<ul><li>Игра</li></ul>" },
      LIMITS,
    );
    expect(rendered.subject).toBe("Заказ A-1 & Tom & Jerry");
    expect(rendered.body).toBe("Итого: 1500 <руб>");
    expect(rendered.bodyHtml).toBe("<p>Tom &amp; Jerry</p><ul><li>Игра</li></ul>");
    expect(rendered.missingVariables).toEqual([]);
  });

  it("renders sections over lists and reports top-level variables that are missing", async () => {
    const rendered = await renderContent(
      compiler,
      content(
        "en",
        "{{#items}}- {{title}}\n{{/items}}{{^items}}nothing{{/items}} for {{user.name}} {{coupon}}",
      ),
      { items: [{ title: "A" }, { title: "B" }], user: {} },
      LIMITS,
    );
    expect(rendered.body).toBe("- A\n- B\n for  ");
    expect(rendered.missingVariables).toEqual(["coupon", "user.name"]);
  });
});

describe("assertValidMustache", () => {
  it("accepts well-formed templates", async () => {
    await expect(
      assertValidMustache(compiler, [content("ru", "{{#a}}{{b}}{{/a}}", "{{c}}")], LIMITS),
    ).resolves.toBeUndefined();
  });

  it("names every broken field with its pointer", async () => {
    let error: unknown;
    try {
      await assertValidMustache(
        compiler,
        [content("ru", "ok"), content("en", "{{#open}} never closed", "{{> header}}")],
        LIMITS,
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DomainError);
    const problems = (error as DomainError).problems;
    expect(problems.map((problem) => problem.source.pointer)).toEqual([
      "/locales/1/subject",
      "/locales/1/body",
    ]);
    expect(problems[0]?.detail).toContain("partial");
    expect(problems[1]?.detail).toContain('Unclosed section "open"');
  });
});

describe("resolveLocale", () => {
  const locales = [content("ru"), content("en-GB"), content("en-US"), content("de")];

  it("takes the exact locale, then the language, then another region, then the default", () => {
    expect(resolveLocale([content("ru"), content("ru-RU")], "ru-RU", "ru")?.languageCode).toBe("ru-RU");
    expect(resolveLocale(locales, "ru-RU", "de")?.languageCode).toBe("ru");
    expect(resolveLocale(locales, "EN-us", "de")?.languageCode).toBe("en-US");
    expect(resolveLocale(locales, "en-AU", "de")?.languageCode).toBe("en-GB");
    expect(resolveLocale(locales, "fr-FR", "de")?.languageCode).toBe("de");
    expect(resolveLocale(locales, "", "de")?.languageCode).toBe("de");
  });

  it("finds nothing when even the default is missing", () => {
    expect(resolveLocale([content("en")], "fr", "de")).toBeUndefined();
  });
});
