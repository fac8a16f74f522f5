import { describe, expect, it } from "vitest";
import {
  defaultPreferences,
  type PreferenceStore,
  StoredReceivePolicy,
  type UserPreferences,
} from "../../../../core/preferences/index.ts";

const delivery = { type: "marketing", channel: "email" as const };

/** A store that answers one user as unsubscribed and counts what it is asked. */
function storeWith(unsubscribed: string) {
  const asked: string[][] = [];
  const saved: UserPreferences = {
    ...defaultPreferences(unsubscribed),
    globalUnsubscribe: true,
    revision: 1,
  };
  const store: Pick<PreferenceStore, "findMany"> = {
    findMany: async (userIds) => {
      asked.push([...userIds]);
      return new Map(userIds.filter((id) => id === unsubscribed).map((id) => [id, saved]));
    },
  };
  return { store, asked };
}

describe("StoredReceivePolicy", () => {
  it("reads users read repeatedly from its store, and users read once from the store for those", async () => {
    const everyday = storeWith("u-1");
    const audience = storeWith("u-2");
    const policy = new StoredReceivePolicy(everyday.store as PreferenceStore, audience.store);

    const repeated = await policy.of(["u-1", "u-2"]);
    expect(repeated("u-1", delivery)).toEqual({ receive: false, reason: "global_unsubscribe" });
    expect(repeated("u-2", delivery)).toEqual({ receive: true });

    const once = await policy.of(["u-1", "u-2"], "once");
    expect(once("u-1", delivery)).toEqual({ receive: true });
    expect(once("u-2", delivery)).toEqual({ receive: false, reason: "global_unsubscribe" });

    expect(everyday.asked).toEqual([["u-1", "u-2"]]);
    expect(audience.asked).toEqual([["u-1", "u-2"]]);
  });

  it("reads users read once from its one store when it has no other", async () => {
    const only = storeWith("u-1");
    const receives = await new StoredReceivePolicy(only.store as PreferenceStore).of(["u-1"], "once");
    expect(receives("u-1", delivery)).toEqual({ receive: false, reason: "global_unsubscribe" });
    expect(only.asked).toEqual([["u-1"]]);
  });
});
