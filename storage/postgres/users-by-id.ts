import { storableUserId } from "../../core/uuids.ts";

/**
 * What a lookup of many users asks PostgreSQL for: the ids a table keyed by UUID can hold,
 * each once, in lower case, as PostgreSQL gives a UUID back whatever case it was asked in.
 */
export function storableUserIds(userIds: readonly string[]): string[] {
  return [...new Set(userIds.filter(storableUserId).map((userId) => userId.toLowerCase()))];
}

/** What was found per lower-case id, keyed by the ids as the caller gave them; ids with nothing found are absent. */
export function keyedAsGiven<T>(userIds: readonly string[], found: Map<string, T>): Map<string, T> {
  const answer = new Map<string, T>();
  for (const userId of userIds) {
    const value = found.get(userId.toLowerCase());
    if (value !== undefined) answer.set(userId, value);
  }
  return answer;
}
