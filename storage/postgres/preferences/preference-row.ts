import { defineEntity, p } from "@mikro-orm/core";
import type { Channel } from "../../../core/channels.ts";
import type { TypePreference } from "../../../core/preferences/index.ts";

/** user_notification_preferences (migration 0003): one row per user who ever saved. */
export const PreferenceRow = defineEntity({
  name: "PreferenceRow",
  tableName: "user_notification_preferences",
  properties: {
    userId: p.uuid().primary(),
    globalUnsubscribeAll: p.boolean(),
    channelSettings: p.json<Partial<Record<Channel, boolean>>>(),
    typePreferences: p.json<Record<string, TypePreference>>(),
    revision: p.bigint("number"),
    updatedAt: p.datetime(),
  },
});
