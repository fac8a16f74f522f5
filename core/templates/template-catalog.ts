import type { Caller } from "../caller.ts";
import { DomainError, ErrorCatalog, type ErrorProblem } from "../errors.ts";
import { resolveLocale } from "./locale.ts";
import { assertValidMustache, type RenderedContent, renderContent } from "./render.ts";
import type { RenderLimits } from "./render-limits.ts";
import type {
  LocaleContent,
  Template,
  TemplateDraft,
  TemplateFilter,
  TemplatePage,
  TemplateVersion,
  Variables,
} from "./template.ts";
import type { TemplateCompiler } from "./template-compiler.ts";
import { requireRevision, requireVersion, templateNotFound, versionNotFound } from "./template-rules.ts";
import type { TemplateStore } from "./template-store.ts";

export interface Preview extends RenderedContent {
  languageCode: string;
  version: number;
}

/** Templates, their versions and previews: the rules above the store. */
export class TemplateCatalog {
  constructor(
    private readonly store: TemplateStore,
    private readonly renderLimits: RenderLimits,
    private readonly compiler: TemplateCompiler,
  ) {}

  create(draft: TemplateDraft, caller: Caller): Promise<Template> {
    return this.store.create(draft, caller);
  }

  async get(id: string): Promise<Template> {
    const template = await this.store.get(id);
    if (!template) throw templateNotFound(id);
    return template;
  }

  list(filter: TemplateFilter): Promise<TemplatePage> {
    return this.store.list(filter);
  }

  update(id: string, draft: TemplateDraft, expectedRevision: number, caller: Caller): Promise<Template> {
    return this.store.update(id, draft, caller, (current) => {
      requireRevision(id, expectedRevision)(current);
      if (current && draft.channel !== current.channel && current.latestVersion > 0) {
        throw new DomainError(
          ErrorCatalog.failedPrecondition,
          "the channel of a template with versions cannot change: its content was written for the old one",
          { pointer: "/template/channel_type" },
        );
      }
    });
  }

  async delete(id: string, expectedRevision: number, caller: Caller): Promise<void> {
    await this.store.delete(id, caller, requireRevision(id, expectedRevision));
  }

  async createVersion(
    templateId: string,
    locales: LocaleContent[],
    caller: Caller,
  ): Promise<TemplateVersion> {
    const template = await this.get(templateId);
    await assertContentFits(template, locales, this.renderLimits, this.compiler);
    return this.store.addVersion(templateId, locales, caller, requireRevision(templateId, 0));
  }

  async listVersions(templateId: string): Promise<TemplateVersion[]> {
    await this.get(templateId);
    return this.store.listVersions(templateId);
  }

  async getVersion(templateId: string, version: number): Promise<TemplateVersion> {
    const found = await this.store.getVersion(templateId, version);
    if (!found) throw versionNotFound(templateId, version);
    return found;
  }

  async updateVersion(
    templateId: string,
    version: number,
    locales: LocaleContent[],
    caller: Caller,
  ): Promise<TemplateVersion> {
    const template = await this.get(templateId);
    await this.getVersion(templateId, version);
    await assertContentFits(template, locales, this.renderLimits, this.compiler);
    return this.store.replaceVersion(
      templateId,
      version,
      locales,
      caller,
      requireVersion(templateId, version, { editable: true }),
    );
  }

  activateVersion(templateId: string, version: number, caller: Caller): Promise<TemplateVersion> {
    return this.store.activateVersion(
      templateId,
      version,
      caller,
      requireVersion(templateId, version, { editable: false }),
    );
  }

  /** Renders a version (0: the active one) in the locale closest to the one asked for. */
  async preview(
    templateId: string,
    version: number,
    languageCode: string,
    variables: Variables,
  ): Promise<Preview> {
    const template = await this.get(templateId);
    const number = version || template.activeVersion;
    if (number === 0) {
      throw new DomainError(
        ErrorCatalog.failedPrecondition,
        "the template has no active version: name the version to preview",
        { pointer: "/version" },
      );
    }
    const found = await this.getVersion(templateId, number);
    const content = resolveLocale(found.locales, languageCode, template.defaultLanguageCode);
    if (!content) {
      throw new DomainError(
        ErrorCatalog.failedPrecondition,
        `version ${number} has no content for ${languageCode}`,
      );
    }
    const view = Object.keys(variables).length > 0 ? variables : template.exampleVariables;
    return {
      ...(await renderContent(this.compiler, content, view, this.renderLimits)),
      languageCode: content.languageCode,
      version: number,
    };
  }
}

/** Content must parse, have one entry per language, include the default language and suit the channel. */
async function assertContentFits(
  template: Template,
  locales: LocaleContent[],
  limits: RenderLimits,
  compiler: TemplateCompiler,
): Promise<void> {
  await assertValidMustache(compiler, locales, limits);
  const problems: ErrorProblem[] = [];
  const seen = new Set<string>();
  locales.forEach((content, index) => {
    const code = content.languageCode.toLowerCase();
    if (seen.has(code)) {
      problems.push({
        detail: `${content.languageCode} appears twice`,
        source: { pointer: `/locales/${index}/language_code` },
      });
    }
    seen.add(code);
    if (template.channel === "email" && content.subject.trim() === "") {
      problems.push({ detail: "an email needs a subject", source: { pointer: `/locales/${index}/subject` } });
    }
    if (template.channel !== "email" && content.bodyHtml !== "") {
      problems.push({
        detail: `only email templates have an HTML body, this one is ${template.channel}`,
        source: { pointer: `/locales/${index}/body_html` },
      });
    }
    if (template.channel === "sms" && content.subject !== "") {
      problems.push({ detail: "an SMS has no subject", source: { pointer: `/locales/${index}/subject` } });
    }
  });
  if (!seen.has(template.defaultLanguageCode.toLowerCase())) {
    problems.push({
      detail: `the template's default language ${template.defaultLanguageCode} must be among the locales`,
      source: { pointer: "/locales" },
    });
  }
  const [first, ...more] = problems;
  if (first) throw new DomainError(ErrorCatalog.validation, first.detail, first.source, more);
}
