import type { Caller } from "../caller.ts";
import { DomainError, ErrorCatalog } from "../errors.ts";
import type { PreferenceStore } from "./preference-store.ts";
import { defaultPreferences, type PreferenceSettings, type UserPreferences } from "./preferences.ts";
import type { UnsubscribeScope } from "./unsubscribe-links.ts";

export interface PreferenceUpdate {
  userId: string;
  /** The complete new settings: what is not in them is back to its default. */
  settings: PreferenceSettings;
  /** The revision the change is based on; 0 overwrites whatever is there. */
  expectedRevision: number;
}

/** Users' preferences: the defaults, replacement and optimistic concurrency above the store. */
export class PreferenceManager {
  constructor(private readonly store: PreferenceStore) {}

  async get(userId: string): Promise<UserPreferences> {
    return (await this.store.find(userId)) ?? defaultPreferences(userId);
  }

  /**
   * Turns off one notification type for the user, as an unsubscribe link asks: the type's
   * other choices and the user's other settings stay as they were.
   */
  async unsubscribe(scope: UnsubscribeScope, caller: Caller): Promise<UserPreferences> {
    if (!this.store.keeps(scope.userId)) {
      throw new DomainError(
        ErrorCatalog.notFound,
        `user ${scope.userId} has no preferences that can be kept`,
      );
    }
    return this.store.modify(scope.userId, caller, (current) => {
      const settings = current ?? defaultPreferences(scope.userId);
      const type = Object.hasOwn(settings.types, scope.type) ? settings.types[scope.type] : undefined;
      return {
        globalUnsubscribe: settings.globalUnsubscribe,
        channels: settings.channels,
        types: { ...settings.types, [scope.type]: { enabled: false, channels: type?.channels ?? [] } },
      };
    });
  }

  update(update: PreferenceUpdate, caller: Caller): Promise<UserPreferences> {
    return this.store.modify(update.userId, caller, (current) => {
      const revision = current?.revision ?? 0;
      if (update.expectedRevision !== 0 && update.expectedRevision !== revision) {
        throw new DomainError(
          ErrorCatalog.staleRevision,
          `the preferences of user ${update.userId} are at revision ${revision}, not ${update.expectedRevision}: read them again and retry`,
          { pointer: "/expected_revision" },
        );
      }
      return update.settings;
    });
  }
}
