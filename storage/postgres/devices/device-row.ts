import { defineEntity, p } from "@mikro-orm/core";
import type { DevicePlatform } from "../../../core/devices/index.ts";

/** device_tokens (migration 0003). */
export const DeviceRow = defineEntity({
  name: "DeviceRow",
  tableName: "device_tokens",
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid(),
    devicePlatform: p.string().length(16).$type<DevicePlatform>(),
    token: p.text(),
    lastSeenAt: p.datetime(),
    isActive: p.boolean(),
    appVersion: p.string().length(64).nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
