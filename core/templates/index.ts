export { resolveLocale } from "./locale.ts";
export {
  InlineMustacheParser,
  type MustacheParser,
  type ParsedTemplate,
  type ParseOutcome,
  parseMustache,
} from "./mustache-parser.ts";
export { assertValidMustache, type RenderedContent, renderContent } from "./render.ts";
export { DEFAULT_RENDER_LIMITS, RENDER_LIMIT_SETTINGS, type RenderLimits } from "./render-limits.ts";
export {
  type ContentLookup,
  type SendableContent,
  type SendableTemplates,
  StoredSendableTemplates,
  type UnsendableReason,
} from "./sendable-templates.ts";
export type {
  LocaleContent,
  Template,
  TemplateDraft,
  TemplateFilter,
  TemplatePage,
  TemplateVersion,
  Variables,
} from "./template.ts";
export { type Preview, TemplateCatalog } from "./template-catalog.ts";
export { MustacheSyntaxError, TemplateCompiler, type TemplateCompilerOptions } from "./template-compiler.ts";
export type { TemplateWriteCheck, VersionWriteCheck } from "./template-rules.ts";
export type { TemplateStore } from "./template-store.ts";
