import type { Caller } from "../caller.ts";
import { DomainError, ErrorCatalog } from "../errors.ts";
import type { Device, DeviceRegistration } from "./device.ts";
import type { DeviceStore } from "./device-store.ts";

/** Users' push tokens: registration, listing, deactivation and removal. */
export class DeviceManager {
  constructor(
    private readonly store: DeviceStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  register(registration: DeviceRegistration, caller: Caller): Promise<Device> {
    return this.store.register(registration, this.now(), caller);
  }

  list(userId: string): Promise<Device[]> {
    return this.store.listByUser(userId);
  }

  async deactivate(userId: string, deviceId: string, caller: Caller): Promise<Device> {
    const device = await this.store.deactivate(userId, deviceId, caller);
    if (!device) throw notFound(userId, deviceId);
    return device;
  }

  async delete(userId: string, deviceId: string, caller: Caller): Promise<void> {
    if (!(await this.store.delete(userId, deviceId, caller))) throw notFound(userId, deviceId);
  }
}

// The same answer whether the device does not exist or belongs to someone else:
// a caller learns nothing about other users' devices.
function notFound(userId: string, deviceId: string): DomainError {
  return new DomainError(ErrorCatalog.notFound, `user ${userId} has no device ${deviceId}`, {
    pointer: "/device_id",
  });
}
