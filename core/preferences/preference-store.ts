import type { Caller } from "../caller.ts";
import type { PreferenceSettings, UserPreferences } from "./preferences.ts";

/** Where saved preferences live. */
export interface PreferenceStore {
  /**
   * Whether preferences can be saved for this user id at all: the store keys users by the
   * platform's UUIDs, while a send request may name a user by any id.
   */
  keeps(userId: string): boolean;

  /** Undefined for a user who never saved preferences. */
  find(userId: string): Promise<UserPreferences | undefined>;

  /**
   * The saved preferences of many users in one look, keyed by the ids as given; a user who
   * never saved any is absent.
   */
  findMany(userIds: readonly string[]): Promise<Map<string, UserPreferences>>;

  /**
   * Calls `change` with the user's saved preferences (undefined when never saved) while
   * no one else can change them, and saves what it returns as the next revision, with
   * its audit entry, in one transaction. Whatever `change` throws aborts the write.
   */
  modify(
    userId: string,
    caller: Caller,
    change: (current: UserPreferences | undefined) => PreferenceSettings,
  ): Promise<UserPreferences>;
}
