import type { Caller } from "../../core/caller.ts";
import type {
  LocaleContent,
  Template,
  TemplateDraft,
  TemplateFilter,
  TemplatePage,
  TemplateStore,
  TemplateVersion,
  TemplateWriteCheck,
  VersionWriteCheck,
} from "../../core/templates/index.ts";
import type { CacheSerializer, TwoLevelCache } from "./two-level-cache.ts";

export const templateSerializer: CacheSerializer<Template> = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => {
    const parsed = JSON.parse(text) as Omit<Template, "createdAt" | "updatedAt"> & {
      createdAt: string;
      updatedAt: string;
    };
    return { ...parsed, createdAt: new Date(parsed.createdAt), updatedAt: new Date(parsed.updatedAt) };
  },
};

export const versionOfTemplate = (value: Template): number => value.revision;

// A deleted template's id never comes back, so its key may stay closed for good.
const DELETED = Number.MAX_SAFE_INTEGER;

class TemplateMissing extends Error {}

/**
 * Reads templates by id through the cache; every write, versions included (they move
 * the template's active and latest version and its revision), invalidates the
 * template once committed. The values handed out are shared with the cache: read-only.
 */
export class CachedTemplateStore implements TemplateStore {
  constructor(
    private readonly store: TemplateStore,
    private readonly cache: TwoLevelCache<Template>,
  ) {}

  async get(id: string): Promise<Template | undefined> {
    try {
      return await this.cache.get(id.toLowerCase(), async () => {
        const found = await this.store.get(id);
        // Missing templates are not cached: ids are random, a miss is rare and cheap.
        if (!found) throw new TemplateMissing();
        return found;
      });
    } catch (error) {
      if (error instanceof TemplateMissing) return undefined;
      throw error;
    }
  }

  getByName(name: string): Promise<Template | undefined> {
    return this.store.getByName(name);
  }

  list(filter: TemplateFilter): Promise<TemplatePage> {
    return this.store.list(filter);
  }

  create(draft: TemplateDraft, caller: Caller): Promise<Template> {
    return this.store.create(draft, caller);
  }

  async update(
    id: string,
    draft: TemplateDraft,
    caller: Caller,
    check: TemplateWriteCheck,
  ): Promise<Template> {
    const updated = await this.store.update(id, draft, caller, check);
    await this.cache.invalidate(id.toLowerCase(), updated.revision);
    return updated;
  }

  async delete(id: string, caller: Caller, check: TemplateWriteCheck): Promise<void> {
    await this.store.delete(id, caller, check);
    await this.cache.invalidate(id.toLowerCase(), DELETED);
  }

  async addVersion(
    templateId: string,
    locales: LocaleContent[],
    caller: Caller,
    check: TemplateWriteCheck,
  ): Promise<TemplateVersion> {
    return this.afterVersionWrite(
      templateId,
      await this.store.addVersion(templateId, locales, caller, check),
    );
  }

  listVersions(templateId: string): Promise<TemplateVersion[]> {
    return this.store.listVersions(templateId);
  }

  getVersion(templateId: string, version: number): Promise<TemplateVersion | undefined> {
    return this.store.getVersion(templateId, version);
  }

  async replaceVersion(
    templateId: string,
    version: number,
    locales: LocaleContent[],
    caller: Caller,
    check: VersionWriteCheck,
  ): Promise<TemplateVersion> {
    return this.afterVersionWrite(
      templateId,
      await this.store.replaceVersion(templateId, version, locales, caller, check),
    );
  }

  async activateVersion(
    templateId: string,
    version: number,
    caller: Caller,
    check: VersionWriteCheck,
  ): Promise<TemplateVersion> {
    return this.afterVersionWrite(
      templateId,
      await this.store.activateVersion(templateId, version, caller, check),
    );
  }

  /** A version write bumped the template's revision inside the store; read it to invalidate up to there. */
  private async afterVersionWrite(templateId: string, written: TemplateVersion): Promise<TemplateVersion> {
    const template = await this.store.get(templateId);
    await this.cache.invalidate(templateId.toLowerCase(), template?.revision ?? DELETED);
    return written;
  }
}
