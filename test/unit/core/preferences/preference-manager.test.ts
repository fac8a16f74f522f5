import { describe, expect, it } from "vitest";
import type { Caller } from "../../../../core/caller.ts";
import { DomainError } from "../../../../core/errors.ts";
import {
  PreferenceManager,
  type PreferenceSettings,
  type PreferenceStore,
  type UserPreferences,
} from "../../../../core/preferences/index.ts";

const USER = "0f8fad5b-d9cb-469f-a165-70867728950e";
const caller: Caller = { subject: "svc-1", roles: ["service"], via: "jwt" };

/** The store's contract in memory: modify sees the saved state and saves the next revision. */
class InMemoryPreferenceStore implements PreferenceStore {
  readonly saved = new Map<string, UserPreferences>();
  readonly audit: { caller: Caller; userId: string }[] = [];

  keeps(userId: string): boolean {
    return userId !== "not-kept";
  }

  async find(userId: string): Promise<UserPreferences | undefined> {
    return this.saved.get(userId);
  }

  async findMany(userIds: readonly string[]): Promise<Map<string, UserPreferences>> {
    return new Map(
      userIds.flatMap((userId) => this.saved.get(userId) ?? []).map((found) => [found.userId, found]),
    );
  }

  async modify(
    userId: string,
    who: Caller,
    change: (current: UserPreferences | undefined) => PreferenceSettings,
  ): Promise<UserPreferences> {
    const current = this.saved.get(userId);
    const settings = change(current);
    const next: UserPreferences = {
      ...settings,
      userId,
      isDefault: false,
      revision: (current?.revision ?? 0) + 1,
      updatedAt: new Date(),
    };
    this.saved.set(userId, next);
    this.audit.push({ caller: who, userId });
    return next;
  }
}

const quiet: PreferenceSettings = {
  globalUnsubscribe: false,
  channels: { sms: false },
  types: { marketing: { enabled: false, channels: [] } },
};

async function errorCodeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return (error as DomainError).entry.code;
}

describe("PreferenceManager", () => {
  it("answers the defaults for a user who never saved", async () => {
    const manager = new PreferenceManager(new InMemoryPreferenceStore());
    expect(await manager.get(USER)).toEqual({
      userId: USER,
      globalUnsubscribe: false,
      channels: {},
      types: {},
      isDefault: true,
      revision: 0,
      updatedAt: null,
    });
  });

  it("creates the preferences at revision 1 on an unconditional first update", async () => {
    const store = new InMemoryPreferenceStore();
    const manager = new PreferenceManager(store);
    const saved = await manager.update({ userId: USER, settings: quiet, expectedRevision: 0 }, caller);
    expect(saved).toMatchObject({ ...quiet, isDefault: false, revision: 1 });
    expect(await manager.get(USER)).toEqual(saved);
    expect(store.audit).toEqual([{ caller, userId: USER }]);
  });

  it("replaces the whole settings: what an update leaves out is back to its default", async () => {
    const manager = new PreferenceManager(new InMemoryPreferenceStore());
    await manager.update({ userId: USER, settings: quiet, expectedRevision: 0 }, caller);
    const replaced = await manager.update(
      { userId: USER, settings: { globalUnsubscribe: true, channels: {}, types: {} }, expectedRevision: 1 },
      caller,
    );
    expect(replaced).toMatchObject({ globalUnsubscribe: true, channels: {}, types: {}, revision: 2 });
  });

  it("applies an update based on the current revision", async () => {
    const manager = new PreferenceManager(new InMemoryPreferenceStore());
    const first = await manager.update({ userId: USER, settings: quiet, expectedRevision: 0 }, caller);
    const second = await manager.update(
      { userId: USER, settings: { ...quiet, globalUnsubscribe: true }, expectedRevision: first.revision },
      caller,
    );
    expect(second.revision).toBe(2);
  });

  it("refuses an update based on a stale revision and leaves the preferences as they were", async () => {
    const store = new InMemoryPreferenceStore();
    const manager = new PreferenceManager(store);
    await manager.update({ userId: USER, settings: quiet, expectedRevision: 0 }, caller);
    await manager.update({ userId: USER, settings: quiet, expectedRevision: 1 }, caller);
    const code = await errorCodeOf(
      manager.update(
        { userId: USER, settings: { ...quiet, globalUnsubscribe: true }, expectedRevision: 1 },
        caller,
      ),
    );
    expect(code).toBe("STALE_REVISION");
    expect((await manager.get(USER)).globalUnsubscribe).toBe(false);
    expect(store.audit).toHaveLength(2);
  });

  it("refuses a conditional update of a user who never saved: the current revision is 0", async () => {
    const manager = new PreferenceManager(new InMemoryPreferenceStore());
    const code = await errorCodeOf(
      manager.update({ userId: USER, settings: quiet, expectedRevision: 3 }, caller),
    );
    expect(code).toBe("STALE_REVISION");
    expect((await manager.get(USER)).isDefault).toBe(true);
  });

  it("overwrites whatever is there when the expected revision is 0", async () => {
    const manager = new PreferenceManager(new InMemoryPreferenceStore());
    await manager.update({ userId: USER, settings: quiet, expectedRevision: 0 }, caller);
    await manager.update({ userId: USER, settings: quiet, expectedRevision: 0 }, caller);
    const third = await manager.update(
      { userId: USER, settings: { ...quiet, globalUnsubscribe: true }, expectedRevision: 0 },
      caller,
    );
    expect(third).toMatchObject({ globalUnsubscribe: true, revision: 3 });
  });

  it("turns one notification type off for an unsubscribe link, keeping every other choice", async () => {
    const store = new InMemoryPreferenceStore();
    const manager = new PreferenceManager(store);
    await manager.update(
      {
        userId: USER,
        settings: {
          globalUnsubscribe: false,
          channels: { sms: false },
          types: {
            digest: { enabled: true, channels: ["email", "push_fcm"] },
            order_status: { enabled: true, channels: [] },
          },
        },
        expectedRevision: 0,
      },
      caller,
    );
    const after = await manager.unsubscribe({ userId: USER, type: "digest", channel: "email" }, caller);
    expect(after).toMatchObject({
      globalUnsubscribe: false,
      channels: { sms: false },
      types: { digest: { enabled: false, channels: ["email", "push_fcm"] }, order_status: { enabled: true } },
      revision: 2,
    });
    const fresh = await manager.unsubscribe(
      { userId: "never-saved", type: "promo", channel: "email" },
      caller,
    );
    expect(fresh.types).toEqual({ promo: { enabled: false, channels: [] } });
    expect(store.audit.map((entry) => entry.userId)).toEqual([USER, USER, "never-saved"]);
    await expect(
      manager.unsubscribe({ userId: "not-kept", type: "promo", channel: "email" }, caller),
    ).rejects.toThrow(DomainError);
  });
});
