const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a value can go in a UUID column, in any case. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Whether a user id can be a row's key: preferences and devices key users by UUID (the
 * specification's tables), while a send request may name a user by any id of the
 * platform's. A user whose id is no UUID has no stored preferences, devices or inbox.
 */
export function storableUserId(userId: string): boolean {
  return isUuid(userId);
}
