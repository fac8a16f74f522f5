import type { Device, DevicePlatform } from "./device.ts";
import type { DeviceStore } from "./device-store.ts";

/** A user's active devices on `platform`, most recently seen first; none for a user not among those read. */
export type ActiveDevices = (userId: string, platform: DevicePlatform) => Device[];

/** What sending reads of devices: where the pushes of a batch's users go, read at once. */
export interface PushTargets {
  of(userIds: readonly string[]): Promise<ActiveDevices>;
}

/**
 * PushTargets over the device store: one query for a batch, where a push campaign's chunk of
 * a hundred users took a hundred.
 */
export class StoredPushTargets implements PushTargets {
  constructor(private readonly store: DeviceStore) {}

  async of(userIds: readonly string[]): Promise<ActiveDevices> {
    const byUser = await this.store.listByUsers(userIds);
    return (userId, platform) =>
      (byUser.get(userId) ?? []).filter((device) => device.active && device.platform === platform);
  }
}
