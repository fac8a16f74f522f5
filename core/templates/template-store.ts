import type { Caller } from "../caller.ts";
import type {
  LocaleContent,
  Template,
  TemplateDraft,
  TemplateFilter,
  TemplatePage,
  TemplateVersion,
} from "./template.ts";
import type { TemplateWriteCheck, VersionWriteCheck } from "./template-rules.ts";

/**
 * Where templates live. Every write is one transaction that also records its audit
 * entry. Before writing, it calls `check` with the template (and version) as they are
 * under its lock, so the catalog's rules decide on what is current; whatever `check`
 * throws aborts the write.
 */
export interface TemplateStore {
  create(draft: TemplateDraft, caller: Caller): Promise<Template>;
  get(id: string): Promise<Template | undefined>;
  getByName(name: string): Promise<Template | undefined>;
  list(filter: TemplateFilter): Promise<TemplatePage>;
  update(id: string, draft: TemplateDraft, caller: Caller, check: TemplateWriteCheck): Promise<Template>;
  delete(id: string, caller: Caller, check: TemplateWriteCheck): Promise<void>;

  /** Numbers the version after the newest one. */
  addVersion(
    templateId: string,
    locales: LocaleContent[],
    caller: Caller,
    check: TemplateWriteCheck,
  ): Promise<TemplateVersion>;
  listVersions(templateId: string): Promise<TemplateVersion[]>;
  getVersion(templateId: string, version: number): Promise<TemplateVersion | undefined>;
  replaceVersion(
    templateId: string,
    version: number,
    locales: LocaleContent[],
    caller: Caller,
    check: VersionWriteCheck,
  ): Promise<TemplateVersion>;
  activateVersion(
    templateId: string,
    version: number,
    caller: Caller,
    check: VersionWriteCheck,
  ): Promise<TemplateVersion>;
}
