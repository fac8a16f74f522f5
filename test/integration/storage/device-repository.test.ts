import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import type { Caller } from "../../../core/caller.ts";
import type { Device, DeviceRegistration } from "../../../core/devices/index.ts";
import { fingerprint } from "../../../core/personal-data.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { DeviceRepository } from "../../../storage/index.ts";
import { localServices } from "../../support/services.ts";

const app: Caller = { subject: "mobile-backend", roles: ["service"], via: "jwt" };

const token = () => `fcm:${randomUUID()}`;
const registration = (userId: string, value: string, appVersion = "1.0.0"): DeviceRegistration => ({
  userId,
  platform: "android_fcm",
  token: value,
  appVersion,
});

describe("DeviceRepository on PostgreSQL", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 10 }, createLogger("silent"));
  const store = new DeviceRepository(orm);
  // Most tests act as a service, which may move a token; the refusal has its own tests.
  const repository = {
    async register(registration: DeviceRegistration, seenAt: Date, caller: Caller): Promise<Device> {
      const outcome = await store.register(registration, seenAt, caller, { moveFromAnotherUser: true });
      if (outcome.kind !== "saved") throw new Error(`not saved: ${outcome.kind}`);
      return outcome.device;
    },
    listByUser: (userId: string) => store.listByUser(userId),
    deactivate: (userId: string, deviceId: string, caller: Caller) =>
      store.deactivate(userId, deviceId, caller),
    delete: (userId: string, deviceId: string, caller: Caller) => store.delete(userId, deviceId, caller),
  };

  afterAll(() => orm.close(true));

  function sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
    return orm.em.fork().getConnection().execute<T[]>(query, params);
  }

  it("registers a device and lists it", async () => {
    const userId = randomUUID();
    const value = token();
    const device = await repository.register(registration(userId, value), new Date(), app);
    expect(device).toMatchObject({
      userId,
      token: value,
      platform: "android_fcm",
      appVersion: "1.0.0",
      active: true,
    });
    expect(await repository.listByUser(userId)).toEqual([device]);
  });

  it("keeps an empty app version as unknown", async () => {
    const userId = randomUUID();
    const device = await repository.register(registration(userId, token(), ""), new Date(), app);
    expect(device.appVersion).toBe("");
    const [row] = await sql<{ app_version: string | null }>(
      "SELECT app_version FROM device_tokens WHERE id = ?",
      [device.id],
    );
    expect(row?.app_version).toBeNull();
  });

  it("refreshes and reactivates a known token of the same user", async () => {
    const userId = randomUUID();
    const value = token();
    const first = await repository.register(
      registration(userId, value),
      new Date("2026-01-01T00:00:00Z"),
      app,
    );
    await repository.deactivate(userId, first.id, app);
    const seenAt = new Date("2026-02-01T00:00:00Z");
    const again = await repository.register(
      { ...registration(userId, value, "2.0.0"), platform: "ios_apns" },
      seenAt,
      app,
    );
    expect(again).toMatchObject({
      id: first.id,
      active: true,
      appVersion: "2.0.0",
      platform: "ios_apns",
      lastSeenAt: seenAt,
    });
    expect(again.createdAt).toEqual(first.createdAt);
  });

  it("moves a token to the user who registers it last", async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const value = token();
    const alices = await repository.register(registration(alice, value), new Date(), app);
    await repository.deactivate(alice, alices.id, app);
    const bobs = await repository.register(registration(bob, value), new Date(), app);
    expect(bobs).toMatchObject({ id: alices.id, userId: bob, active: true });
    expect(await repository.listByUser(alice)).toEqual([]);
  });

  it("keeps one device per token when two users register it at the same time", async () => {
    for (let round = 0; round < 10; round++) {
      const users = [randomUUID(), randomUUID()];
      const value = token();
      const registered = await Promise.all(
        users.map((userId) => repository.register(registration(userId, value), new Date(), app)),
      );
      expect(new Set(registered.map((device) => device.id)).size).toBe(1);
      const rows = await sql<{ user_id: string; is_active: boolean }>(
        "SELECT user_id, is_active FROM device_tokens WHERE token = ?",
        [value],
      );
      expect(rows).toHaveLength(1);
      expect(users).toContain(rows[0]?.user_id);
      expect(rows[0]?.is_active).toBe(true);
      const owners = await Promise.all(users.map((userId) => repository.listByUser(userId)));
      expect(owners.map((devices) => devices.length).sort()).toEqual([0, 1]);
      // The second registration took the device over from the first: one owner after another.
      const audit = await sql<{ before: { userId: string } | null; after: { userId: string } }>(
        "SELECT before, after FROM audit_log WHERE resource_type = 'device' AND resource_id = ? ORDER BY id",
        [registered[0]?.id],
      );
      expect(audit).toHaveLength(2);
      expect(audit[0]?.before).toBeNull();
      expect(audit[1]?.before?.userId).toBe(audit[0]?.after.userId);
      expect(audit[1]?.after.userId).toBe(rows[0]?.user_id);
    }
  });

  it("refuses to move another user's token unless told to, writing nothing, even in a race", async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const value = token();
    const alices = await repository.register(registration(alice, value), new Date(), app);
    const refused = await store.register(registration(bob, value), new Date(), app, {
      moveFromAnotherUser: false,
    });
    expect(refused).toEqual({ kind: "held_by_another_user" });
    expect(await repository.listByUser(alice)).toEqual([alices]);
    const audit = await sql("SELECT 1 FROM audit_log WHERE resource_type = 'device' AND resource_id = ?", [
      alices.id,
    ]);
    expect(audit).toHaveLength(1);

    // Two users register a new token at once, neither allowed to move: one wins, the other is refused.
    for (let round = 0; round < 5; round++) {
      const users = [randomUUID(), randomUUID()];
      const raced = token();
      const outcomes = await Promise.all(
        users.map((userId) =>
          store.register(registration(userId, raced), new Date(), app, { moveFromAnotherUser: false }),
        ),
      );
      expect(outcomes.map((outcome) => outcome.kind).sort()).toEqual(["held_by_another_user", "saved"]);
      const rows = await sql<{ user_id: string }>("SELECT user_id FROM device_tokens WHERE token = ?", [
        raced,
      ]);
      const winner = outcomes.find((outcome) => outcome.kind === "saved");
      expect(rows).toEqual([{ user_id: winner?.kind === "saved" ? winner.device.userId : "" }]);
    }
  });

  it("refuses a second row with the same token at the database itself", async () => {
    const value = token();
    await repository.register(registration(randomUUID(), value), new Date(), app);
    const insert = sql(
      "INSERT INTO device_tokens (user_id, device_platform, token) VALUES (?, 'ios_apns', ?)",
      [randomUUID(), value],
    );
    await expect(insert).rejects.toMatchObject({ code: "23505", constraint: "uq_device_tokens_token" });
  });

  it("lists a user's devices, most recently seen first", async () => {
    const userId = randomUUID();
    const older = await repository.register(
      registration(userId, token()),
      new Date("2026-01-01T00:00:00Z"),
      app,
    );
    const newer = await repository.register(
      registration(userId, token()),
      new Date("2026-01-02T00:00:00Z"),
      app,
    );
    const newest = await repository.register(
      registration(userId, token()),
      new Date("2026-01-03T00:00:00Z"),
      app,
    );
    expect((await repository.listByUser(userId)).map((device) => device.id)).toEqual([
      newest.id,
      newer.id,
      older.id,
    ]);
  });

  it("deactivates and deletes only the owner's device", async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const device = await repository.register(registration(alice, token()), new Date(), app);
    expect(await repository.deactivate(bob, device.id, app)).toBeUndefined();
    expect(await repository.delete(bob, device.id, app)).toBe(false);
    expect(await repository.deactivate(alice, device.id, app)).toMatchObject({
      id: device.id,
      active: false,
    });
    expect(await repository.delete(alice, device.id, app)).toBe(true);
    expect(await repository.delete(alice, device.id, app)).toBe(false);
    expect(await repository.listByUser(alice)).toEqual([]);
  });

  it("audits every write with the token's fingerprint, never the token", async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const value = token();
    const device = await repository.register(registration(alice, value), new Date(), app);
    await repository.register(registration(bob, value), new Date(), app);
    await repository.deactivate(bob, device.id, app);
    await repository.delete(bob, device.id, app);
    const rows = await sql<{
      action: string;
      before: Record<string, unknown> | null;
      after: Record<string, unknown> | null;
    }>(
      "SELECT action, before, after FROM audit_log WHERE resource_type = 'device' AND resource_id = ? ORDER BY id",
      [device.id],
    );
    expect(rows.map((row) => [row.action, row.before?.userId ?? null, row.after?.userId ?? null])).toEqual([
      ["device.register", null, alice],
      ["device.move", alice, bob],
      ["device.deactivate", bob, bob],
      ["device.delete", bob, null],
    ]);
    expect(rows[0]?.after?.tokenFingerprint).toBe(fingerprint(value));
    expect(JSON.stringify(rows)).not.toContain(value);
  });
});
