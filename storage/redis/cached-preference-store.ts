import type { Caller } from "../../core/caller.ts";
import type { PreferenceSettings, PreferenceStore, UserPreferences } from "../../core/preferences/index.ts";
import type { CacheSerializer, TwoLevelCache } from "./two-level-cache.ts";

/** What the preference cache holds for a user: null for one who never saved (most users). */
export type CachedPreferences = UserPreferences | null;

export const preferenceSerializer: CacheSerializer<CachedPreferences> = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => {
    const parsed = JSON.parse(text) as
      | (Omit<UserPreferences, "updatedAt"> & { updatedAt: string | null })
      | null;
    if (parsed === null) return null;
    return { ...parsed, updatedAt: parsed.updatedAt === null ? null : new Date(parsed.updatedAt) };
  },
};

export const versionOfPreferences = (value: CachedPreferences): number => value?.revision ?? 0;

/**
 * Reads preferences through the cache; each write invalidates it once committed. The
 * values handed out are shared with the cache: read-only.
 */
export class CachedPreferenceStore implements PreferenceStore {
  constructor(
    private readonly store: PreferenceStore,
    private readonly cache: TwoLevelCache<CachedPreferences>,
  ) {}

  keeps(userId: string): boolean {
    return this.store.keeps(userId);
  }

  async find(userId: string): Promise<UserPreferences | undefined> {
    const found = await this.cache.get(keyOf(userId), async () => (await this.store.find(userId)) ?? null);
    return found ?? undefined;
  }

  async findMany(userIds: readonly string[]): Promise<Map<string, UserPreferences>> {
    const keys = [...new Set(userIds.map(keyOf))];
    const cached = await this.cache.getMany(keys, async (missing) => {
      const loaded = await this.store.findMany(missing);
      return new Map(missing.map((key) => [key, loaded.get(key) ?? null]));
    });
    const found = new Map<string, UserPreferences>();
    for (const userId of userIds) {
      const preferences = cached.get(keyOf(userId));
      if (preferences) found.set(userId, preferences);
    }
    return found;
  }

  async modify(
    userId: string,
    caller: Caller,
    change: (current: UserPreferences | undefined) => PreferenceSettings,
  ): Promise<UserPreferences> {
    const saved = await this.store.modify(userId, caller, change);
    await this.cache.invalidate(keyOf(userId), saved.revision);
    return saved;
  }
}

// A UUID in any letter case names the same user; the cache key must be the same too.
function keyOf(userId: string): string {
  return userId.toLowerCase();
}
