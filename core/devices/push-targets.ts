import type { Device, DevicePlatform } from "./device.ts";
import type { DeviceStore } from "./device-store.ts";

/** What sending reads of devices: where a user's pushes go. */
export interface PushTargets {
  /** The user's active devices on `platform`, most recently seen first. */
  activeDevices(userId: string, platform: DevicePlatform): Promise<Device[]>;
}

/** PushTargets over the device store. */
export class StoredPushTargets implements PushTargets {
  constructor(private readonly store: DeviceStore) {}

  async activeDevices(userId: string, platform: DevicePlatform): Promise<Device[]> {
    const devices = await this.store.listByUser(userId);
    return devices.filter((device) => device.active && device.platform === platform);
  }
}
