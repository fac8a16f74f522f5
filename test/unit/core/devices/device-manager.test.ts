import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Caller } from "../../../../core/caller.ts";
import {
  type Device,
  DeviceManager,
  type DeviceRegistration,
  type DeviceStore,
  type RegisterOutcome,
} from "../../../../core/devices/index.ts";
import { DomainError } from "../../../../core/errors.ts";

const ALICE = "6f1c1d2e-8a1b-4c3d-9e4f-5a6b7c8d9e01";
const BOB = "7a2d3e4f-9b2c-4d5e-8f6a-6b7c8d9e0f12";
const caller: Caller = { subject: "svc-1", roles: ["service"], via: "jwt" };
const admin: Caller = { subject: "admin-1", roles: ["admin"], via: "api_key" };
const asUser = (userId: string): Caller => ({ subject: userId, roles: ["user"], via: "jwt" });

/** The store's contract in memory: one device per token, addressed with its owner. */
class InMemoryDeviceStore implements DeviceStore {
  readonly devices = new Map<string, Device>();

  async register(
    registration: DeviceRegistration,
    seenAt: Date,
    _caller: Caller,
    options: { moveFromAnotherUser: boolean },
  ): Promise<RegisterOutcome> {
    const known = [...this.devices.values()].find((device) => device.token === registration.token);
    if (known && known.userId !== registration.userId && !options.moveFromAnotherUser) {
      return { kind: "held_by_another_user" };
    }
    const device: Device = {
      ...registration,
      id: known?.id ?? randomUUID(),
      active: true,
      lastSeenAt: seenAt,
      createdAt: known?.createdAt ?? seenAt,
    };
    this.devices.set(device.id, device);
    return { kind: "saved", device };
  }

  async listByUser(userId: string): Promise<Device[]> {
    return [...this.devices.values()]
      .filter((device) => device.userId === userId)
      .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
  }

  async listByUsers(userIds: readonly string[]): Promise<Map<string, Device[]>> {
    const found = new Map<string, Device[]>();
    for (const userId of userIds) {
      const devices = await this.listByUser(userId);
      if (devices.length > 0) found.set(userId, devices);
    }
    return found;
  }

  async deactivate(userId: string, deviceId: string): Promise<Device | undefined> {
    const device = this.devices.get(deviceId);
    if (device?.userId !== userId) return undefined;
    const deactivated = { ...device, active: false };
    this.devices.set(deviceId, deactivated);
    return deactivated;
  }

  async deactivateTokens(tokens: string[]): Promise<Device[]> {
    const dead = [...this.devices.values()].filter(
      (device) => device.active && tokens.includes(device.token),
    );
    for (const device of dead) this.devices.set(device.id, { ...device, active: false });
    return dead.map((device) => ({ ...device, active: false }));
  }

  async delete(userId: string, deviceId: string): Promise<boolean> {
    if (this.devices.get(deviceId)?.userId !== userId) return false;
    return this.devices.delete(deviceId);
  }
}

function setup() {
  let now = Date.parse("2026-03-01T10:00:00Z");
  const store = new InMemoryDeviceStore();
  const manager = new DeviceManager(store, () => {
    now += 60_000;
    return new Date(now);
  });
  return { store, manager };
}

const registration = (userId: string, token: string, appVersion = "1.0.0"): DeviceRegistration => ({
  userId,
  platform: "android_fcm",
  token,
  appVersion,
});

async function errorOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe("DeviceManager", () => {
  it("registers a device, active and seen now", async () => {
    const { manager } = setup();
    const device = await manager.register(registration(ALICE, "token-alice-1"), caller);
    expect(device).toMatchObject({ userId: ALICE, token: "token-alice-1", active: true });
    expect(device.lastSeenAt.toISOString()).toBe("2026-03-01T10:01:00.000Z");
  });

  it("refreshes and reactivates the same user's device when its token comes again", async () => {
    const { manager } = setup();
    const first = await manager.register(registration(ALICE, "token-alice-1"), caller);
    await manager.deactivate(ALICE, first.id, caller);
    const again = await manager.register(
      { ...registration(ALICE, "token-alice-1", "2.0.0"), platform: "ios_apns" },
      caller,
    );
    expect(again).toMatchObject({ id: first.id, active: true, appVersion: "2.0.0", platform: "ios_apns" });
    expect(again.lastSeenAt.getTime()).toBeGreaterThan(first.lastSeenAt.getTime());
    expect(await manager.list(ALICE)).toHaveLength(1);
  });

  it("moves a token registered by another user to the new one", async () => {
    const { manager } = setup();
    const alices = await manager.register(registration(ALICE, "shared-token"), caller);
    const bobs = await manager.register(registration(BOB, "shared-token"), caller);
    expect(bobs).toMatchObject({ id: alices.id, userId: BOB, active: true });
    expect(await manager.list(ALICE)).toEqual([]);
    expect((await manager.list(BOB)).map((device) => device.id)).toEqual([alices.id]);
  });

  it("moves a token for an admin as for a service", async () => {
    const { manager } = setup();
    const alices = await manager.register(registration(ALICE, "shared-token"), asUser(ALICE));
    const bobs = await manager.register(registration(BOB, "shared-token"), admin);
    expect(bobs).toMatchObject({ id: alices.id, userId: BOB });
  });

  it("refuses a user another user's token, saying nothing about that device, and changes nothing", async () => {
    const { manager, store } = setup();
    const alices = await manager.register(registration(ALICE, "shared-token"), asUser(ALICE));
    const details = new Set<string>();
    for (const state of ["active", "inactive"]) {
      if (state === "inactive") await manager.deactivate(ALICE, alices.id, asUser(ALICE));
      const before = structuredClone(store.devices.get(alices.id));
      const error = await errorOf(manager.register(registration(BOB, "shared-token"), asUser(BOB)));
      expect(error.entry.code).toBe("ALREADY_EXISTS");
      expect(error.source).toEqual({ pointer: "/token" });
      for (const secret of [alices.id, ALICE, alices.createdAt.toISOString(), "shared-token"])
        expect(error.detail).not.toContain(secret);
      details.add(error.detail);
      expect(store.devices.get(alices.id)).toEqual(before);
    }
    expect(details.size).toBe(1);
    expect(await manager.list(BOB)).toEqual([]);
  });

  it("lets a user refresh their own token", async () => {
    const { manager } = setup();
    const first = await manager.register(registration(ALICE, "own-token"), asUser(ALICE));
    const again = await manager.register(registration(ALICE, "own-token", "2.0.0"), asUser(ALICE));
    expect(again).toMatchObject({ id: first.id, appVersion: "2.0.0" });
  });

  it("lists a user's devices, most recently seen first", async () => {
    const { manager } = setup();
    const older = await manager.register(registration(ALICE, "token-a"), caller);
    const newer = await manager.register(registration(ALICE, "token-b"), caller);
    await manager.register(registration(BOB, "token-c"), caller);
    expect((await manager.list(ALICE)).map((device) => device.id)).toEqual([newer.id, older.id]);
    const refreshed = await manager.register(registration(ALICE, "token-a"), caller);
    expect((await manager.list(ALICE)).map((device) => device.id)).toEqual([refreshed.id, newer.id]);
  });

  it("deactivates a device without forgetting it", async () => {
    const { manager } = setup();
    const device = await manager.register(registration(ALICE, "token-a"), caller);
    expect(await manager.deactivate(ALICE, device.id, caller)).toMatchObject({
      id: device.id,
      active: false,
    });
    expect(await manager.list(ALICE)).toMatchObject([{ id: device.id, active: false }]);
  });

  it("deletes a device", async () => {
    const { manager } = setup();
    const device = await manager.register(registration(ALICE, "token-a"), caller);
    await manager.delete(ALICE, device.id, caller);
    expect(await manager.list(ALICE)).toEqual([]);
  });

  it("answers NOT_FOUND for another user's device exactly as for a missing one", async () => {
    const { manager, store } = setup();
    const alices = await manager.register(registration(ALICE, "token-a"), caller);
    const missing = randomUUID();
    for (const attempt of [
      () => manager.deactivate(BOB, alices.id, caller),
      () => manager.delete(BOB, alices.id, caller),
    ]) {
      const error = await errorOf(attempt());
      expect(error.entry.code).toBe("NOT_FOUND");
      expect(error.detail).toBe(`user ${BOB} has no device ${alices.id}`);
    }
    const error = await errorOf(manager.delete(BOB, missing, caller));
    expect(error.detail).toBe(`user ${BOB} has no device ${missing}`);
    expect(store.devices.get(alices.id)).toMatchObject({ userId: ALICE, active: true });
  });
});
