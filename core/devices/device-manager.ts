import type { Caller } from "../caller.ts";
import { DomainError, ErrorCatalog } from "../errors.ts";
import type { Device, DeviceRegistration } from "./device.ts";
import type { DeviceStore } from "./device-store.ts";

/**
 * Whether `caller` may move a push token that another user holds to the user it registers.
 * A phone changes hands, an app reinstalls: the app's backend (a service) or an admin knows
 * and may move it. A user may not, or anyone could take over someone else's pushes.
 */
export function mayMoveTokens(caller: Caller): boolean {
  return caller.roles.includes("service") || caller.roles.includes("admin");
}

/** Users' push tokens: registration, listing, deactivation and removal. */
export class DeviceManager {
  constructor(
    private readonly store: DeviceStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async register(registration: DeviceRegistration, caller: Caller): Promise<Device> {
    const outcome = await this.store.register(registration, this.now(), caller, {
      moveFromAnotherUser: mayMoveTokens(caller),
    });
    if (outcome.kind === "saved") return outcome.device;
    // Neutral on purpose: nothing about the other device (its id, owner, state or times).
    throw new DomainError(
      ErrorCatalog.alreadyExists,
      "this token is registered to another user; only the app's backend can move it",
      { pointer: "/token" },
    );
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
