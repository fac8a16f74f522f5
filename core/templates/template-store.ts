import type { Caller } from "../caller.ts";
import type {
  LocaleContent,
  Template,
  TemplateDraft,
  TemplateFilter,
  TemplatePage,
  TemplateVersion,
} from "./template.ts";

/**
 * Where templates live. Every write is one transaction that also records its audit
 * entry; `expectedRevision` 0 means unconditional, otherwise a mismatch fails with
 * ErrorCatalog.staleRevision. Writes to a missing template fail with notFound.
 */
export interface TemplateStore {
  create(draft: TemplateDraft, caller: Caller): Promise<Template>;
  get(id: string): Promise<Template | undefined>;
  getByName(name: string): Promise<Template | undefined>;
  list(filter: TemplateFilter): Promise<TemplatePage>;
  update(id: string, draft: TemplateDraft, expectedRevision: number, caller: Caller): Promise<Template>;
  delete(id: string, expectedRevision: number, caller: Caller): Promise<void>;

  /** Numbers the version after the newest one, under a lock on the template. */
  addVersion(templateId: string, locales: LocaleContent[], caller: Caller): Promise<TemplateVersion>;
  listVersions(templateId: string): Promise<TemplateVersion[]>;
  getVersion(templateId: string, version: number): Promise<TemplateVersion | undefined>;
  /** Fails with failedPrecondition when the version was ever activated. */
  replaceVersion(
    templateId: string,
    version: number,
    locales: LocaleContent[],
    caller: Caller,
  ): Promise<TemplateVersion>;
  activateVersion(templateId: string, version: number, caller: Caller): Promise<TemplateVersion>;
}
