import type { Caller } from "../caller.ts";
import type { Device, DeviceRegistration } from "./device.ts";

/**
 * Where device tokens live. Every write is one transaction that also records its
 * audit entry. A device is addressed with its owner: another user's device is absent.
 */
export interface DeviceStore {
  /**
   * Saves the token for `registration.userId`, active and seen at `seenAt`. A token is
   * unique: when anyone already has it, that device is taken over and refreshed, even
   * when two users register the same token at the same time.
   */
  register(registration: DeviceRegistration, seenAt: Date, caller: Caller): Promise<Device>;
  /** Most recently seen first. */
  listByUser(userId: string): Promise<Device[]>;
  deactivate(userId: string, deviceId: string, caller: Caller): Promise<Device | undefined>;
  /** False when the user has no such device. */
  delete(userId: string, deviceId: string, caller: Caller): Promise<boolean>;
}
