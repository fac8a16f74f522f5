import { describe, expect, it } from "vitest";
import { ANONYMOUS } from "../../../../core/caller.ts";
import { DomainError } from "../../../../core/errors.ts";
import {
  DEFAULT_RENDER_LIMITS,
  InlineMustacheParser,
  type LocaleContent,
  type Template,
  TemplateCatalog,
  TemplateCompiler,
  type TemplateDraft,
  type TemplateStore,
  type TemplateVersion,
} from "../../../../core/templates/index.ts";

const compiler = new TemplateCompiler({ parser: new InlineMustacheParser() });

/**
 * An in-memory TemplateStore that only keeps what it is given: every rule (existence,
 * revisions, immutability) is the catalog's, through the checks it passes.
 */
function memoryStore(): TemplateStore {
  const templates = new Map<string, Template>();
  const versions = new Map<string, TemplateVersion[]>();
  let next = 1;
  const now = new Date("2026-01-01T00:00:00Z");
  const mustGet = (id: string) => {
    const template = templates.get(id);
    if (!template) throw new Error(`no template ${id}`);
    return template;
  };
  return {
    async create(draft: TemplateDraft) {
      const template = {
        ...draft,
        id: `t${next++}`,
        activeVersion: 0,
        latestVersion: 0,
        revision: 1,
        createdAt: now,
        updatedAt: now,
      };
      templates.set(template.id, template);
      return template;
    },
    async get(id) {
      return templates.get(id);
    },
    async getByName(name) {
      return [...templates.values()].find((template) => template.name === name);
    },
    async list() {
      return { templates: [...templates.values()], nextPageToken: "" };
    },
    async update(id, draft, _caller, check) {
      check(templates.get(id));
      const template = { ...mustGet(id), ...draft, revision: mustGet(id).revision + 1 };
      templates.set(id, template);
      return template;
    },
    async delete(id, _caller, check) {
      check(templates.get(id));
      templates.delete(id);
    },
    async addVersion(templateId, locales: LocaleContent[], _caller, check) {
      check(templates.get(templateId));
      const template = mustGet(templateId);
      const version = {
        templateId,
        version: template.latestVersion + 1,
        locales,
        active: false,
        activatedAt: null,
        createdAt: now,
        updatedAt: now,
      };
      templates.set(templateId, { ...template, latestVersion: version.version });
      versions.set(templateId, [...(versions.get(templateId) ?? []), version]);
      return version;
    },
    async listVersions(templateId) {
      return versions.get(templateId) ?? [];
    },
    async getVersion(templateId, version) {
      return versions.get(templateId)?.find((each) => each.version === version);
    },
    async replaceVersion(templateId, version, locales, _caller, check) {
      const found = versions.get(templateId)?.find((each) => each.version === version);
      check(templates.get(templateId), found);
      if (!found) throw new Error("no version");
      found.locales = locales;
      return found;
    },
    async activateVersion(templateId, version, _caller, check) {
      check(
        templates.get(templateId),
        versions.get(templateId)?.find((each) => each.version === version),
      );
      templates.set(templateId, { ...mustGet(templateId), activeVersion: version });
      const found = versions.get(templateId)?.find((each) => each.version === version);
      if (!found) throw new Error("no version");
      found.active = true;
      found.activatedAt = now;
      return found;
    },
  };
}

const emailDraft: TemplateDraft = {
  name: "order_confirmation",
  description: "",
  channel: "email",
  defaultLanguageCode: "ru",
  exampleVariables: { name: "Иван" },
};

const locale = (languageCode: string, overrides: Partial<LocaleContent> = {}): LocaleContent => ({
  languageCode,
  subject: "Заказ",
  body: "Здравствуйте, {{name}}",
  bodyHtml: "",
  ...overrides,
});

async function problemsOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return (error as DomainError).problems.map((problem) => [problem.source.pointer, problem.detail]);
}

describe("TemplateCatalog", () => {
  it("refuses content without the default language, duplicated locales and content unfit for the channel", async () => {
    const catalog = new TemplateCatalog(memoryStore(), DEFAULT_RENDER_LIMITS, compiler);
    const email = await catalog.create(emailDraft, ANONYMOUS);
    expect(
      await problemsOf(
        catalog.createVersion(email.id, [locale("en", { subject: "" }), locale("EN")], ANONYMOUS),
      ),
    ).toEqual([
      ["/locales/0/subject", "an email needs a subject"],
      ["/locales/1/language_code", "EN appears twice"],
      ["/locales", "the template's default language ru must be among the locales"],
    ]);

    const sms = await catalog.create({ ...emailDraft, name: "code", channel: "sms" }, ANONYMOUS);
    expect(
      await problemsOf(catalog.createVersion(sms.id, [locale("ru", { bodyHtml: "<b>x</b>" })], ANONYMOUS)),
    ).toEqual([
      ["/locales/0/body_html", "only email templates have an HTML body, this one is sms"],
      ["/locales/0/subject", "an SMS has no subject"],
    ]);
  });

  it("previews the active version in the nearest locale with example variables by default", async () => {
    const catalog = new TemplateCatalog(memoryStore(), DEFAULT_RENDER_LIMITS, compiler);
    const template = await catalog.create(emailDraft, ANONYMOUS);
    await catalog.createVersion(
      template.id,
      [locale("ru"), locale("en", { body: "Hello, {{name}}" })],
      ANONYMOUS,
    );
    expect(await problemsOf(catalog.preview(template.id, 0, "ru", {}))).toEqual([
      ["/version", "the template has no active version: name the version to preview"],
    ]);
    await catalog.activateVersion(template.id, 1, ANONYMOUS);
    const preview = await catalog.preview(template.id, 0, "en-US", {});
    expect(preview).toMatchObject({ body: "Hello, Иван", languageCode: "en", version: 1 });
    expect((await catalog.preview(template.id, 1, "fr", { name: "Pierre" })).body).toBe(
      "Здравствуйте, Pierre",
    );
  });

  it("renders and validates with the limits it was given", async () => {
    const limits = { maxSectionDepth: 2, maxOutputBytes: 100, maxSteps: 1000 };
    const catalog = new TemplateCatalog(memoryStore(), limits, compiler);
    const template = await catalog.create(emailDraft, ANONYMOUS);
    expect(
      await problemsOf(
        catalog.createVersion(
          template.id,
          [locale("ru", { body: "{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}" })],
          ANONYMOUS,
        ),
      ),
    ).toEqual([["/locales/0/body", "body nests sections 3 deep, more than 2 (TEMPLATE_MAX_SECTION_DEPTH)"]]);
    await catalog.createVersion(template.id, [locale("ru", { body: "{{#a}}{{.}}{{/a}}" })], ANONYMOUS);
    expect((await catalog.preview(template.id, 1, "ru", { a: ["x", "y"] })).body).toBe("xy");
    expect(
      await problemsOf(catalog.preview(template.id, 1, "ru", { a: ["x".repeat(60), "y".repeat(60)] })),
    ).toEqual([[undefined, "the rendered body would exceed 100 bytes (TEMPLATE_RENDER_MAX_OUTPUT_BYTES)"]]);
  });

  it("keeps the channel of a template that has versions", async () => {
    const catalog = new TemplateCatalog(memoryStore(), DEFAULT_RENDER_LIMITS, compiler);
    const template = await catalog.create(emailDraft, ANONYMOUS);
    expect(
      (await catalog.update(template.id, { ...emailDraft, channel: "in_app" }, 0, ANONYMOUS)).channel,
    ).toBe("in_app");
    await catalog.update(template.id, emailDraft, 0, ANONYMOUS);
    await catalog.createVersion(template.id, [locale("ru")], ANONYMOUS);
    expect(
      await problemsOf(catalog.update(template.id, { ...emailDraft, channel: "sms" }, 0, ANONYMOUS)),
    ).toEqual([
      [
        "/template/channel_type",
        "the channel of a template with versions cannot change: its content was written for the old one",
      ],
    ]);
  });

  it("refuses a write based on another revision than the current one, unless it names none", async () => {
    const catalog = new TemplateCatalog(memoryStore(), DEFAULT_RENDER_LIMITS, compiler);
    const template = await catalog.create(emailDraft, ANONYMOUS);
    const updated = await catalog.update(template.id, { ...emailDraft, description: "v2" }, 1, ANONYMOUS);
    expect(updated.revision).toBe(2);
    expect(await problemsOf(catalog.update(template.id, emailDraft, 1, ANONYMOUS))).toEqual([
      ["/expected_revision", `template ${template.id} is at revision 2, not 1: read it again and retry`],
    ]);
    expect(await problemsOf(catalog.delete(template.id, 7, ANONYMOUS))).toEqual([
      ["/expected_revision", `template ${template.id} is at revision 2, not 7: read it again and retry`],
    ]);
    expect((await catalog.update(template.id, emailDraft, 0, ANONYMOUS)).revision).toBe(3);
  });

  it("never changes a version once it was activated", async () => {
    const catalog = new TemplateCatalog(memoryStore(), DEFAULT_RENDER_LIMITS, compiler);
    const template = await catalog.create(emailDraft, ANONYMOUS);
    await catalog.createVersion(template.id, [locale("ru")], ANONYMOUS);
    const edited = await catalog.updateVersion(
      template.id,
      1,
      [locale("ru", { body: "draft 2" })],
      ANONYMOUS,
    );
    expect(edited.locales[0]?.body).toBe("draft 2");
    await catalog.activateVersion(template.id, 1, ANONYMOUS);
    expect(await problemsOf(catalog.updateVersion(template.id, 1, [locale("ru")], ANONYMOUS))).toEqual([
      ["/version", "version 1 was activated and can no longer change: create a new version"],
    ]);
    expect(await problemsOf(catalog.activateVersion(template.id, 2, ANONYMOUS))).toEqual([
      ["/version", `template ${template.id} has no version 2`],
    ]);
  });

  it("answers NOT_FOUND for a missing template or version", async () => {
    const catalog = new TemplateCatalog(memoryStore(), DEFAULT_RENDER_LIMITS, compiler);
    expect(await problemsOf(catalog.get("nope"))).toEqual([["/template_id", "template nope does not exist"]]);
    const template = await catalog.create(emailDraft, ANONYMOUS);
    expect(await problemsOf(catalog.getVersion(template.id, 9))).toEqual([
      ["/version", `template ${template.id} has no version 9`],
    ]);
  });
});
