import type { Caller } from "../caller.ts";
import type { Device, DeviceRegistration } from "./device.ts";

/** How a registration ended: saved (new, refreshed or moved), or refused because another user holds the token. */
export type RegisterOutcome = { kind: "saved"; device: Device } | { kind: "held_by_another_user" };

/**
 * Where device tokens live. Every write is one transaction that also records its
 * audit entry. A device is addressed with its owner: another user's device is absent.
 */
export interface DeviceStore {
  /**
   * Saves the token for `registration.userId`, active and seen at `seenAt`. A token is
   * unique: when another user already has it, that device is moved to this user if
   * `options.moveFromAnotherUser`, and otherwise nothing is written. Who holds the token
   * is read under a lock, so the answer holds even when two users register it at once.
   */
  register(
    registration: DeviceRegistration,
    seenAt: Date,
    caller: Caller,
    options: { moveFromAnotherUser: boolean },
  ): Promise<RegisterOutcome>;
  /** Most recently seen first. */
  listByUser(userId: string): Promise<Device[]>;
  /** Many users' devices in one look, each user's most recently seen first, keyed by the ids as given; a user with none is absent. */
  listByUsers(userIds: readonly string[]): Promise<Map<string, Device[]>>;
  deactivate(userId: string, deviceId: string, caller: Caller): Promise<Device | undefined>;
  /**
   * Deactivates the active devices holding these tokens, whoever owns them: a provider said
   * the tokens are dead. Answers the devices it deactivated.
   */
  deactivateTokens(tokens: string[], caller: Caller): Promise<Device[]>;
  /** False when the user has no such device. */
  delete(userId: string, deviceId: string, caller: Caller): Promise<boolean>;
}
