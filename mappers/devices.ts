import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Caller } from "../core/caller.ts";
import type { Device, DevicePlatform } from "../core/devices/index.ts";
import { DomainError, ErrorCatalog } from "../core/errors.ts";
import { personalDataView } from "../core/personal-data.ts";
import {
  type Device as DeviceMessage,
  DevicePlatform as DevicePlatformMessage,
  DeviceSchema,
} from "../gen/platform/notification/v1/device_service_pb.ts";

const PROTO_PLATFORM_OF: Record<DevicePlatform, DevicePlatformMessage> = {
  android_fcm: DevicePlatformMessage.ANDROID_FCM,
  ios_apns: DevicePlatformMessage.IOS_APNS,
};

const PLATFORM_OF = new Map(
  Object.entries(PROTO_PLATFORM_OF).map(([platform, proto]) => [proto, platform as DevicePlatform]),
);

// Validation rejects UNSPECIFIED and undefined numbers before a handler runs.
export function platformOf(platform: DevicePlatformMessage): DevicePlatform {
  const known = PLATFORM_OF.get(platform);
  if (!known)
    throw new DomainError(ErrorCatalog.validation, "platform: value is required", { pointer: "/platform" });
  return known;
}

/** The device as `caller` may see it: its token masked unless the caller sees the owner's data in full. */
export function deviceMessage(device: Device, caller: Caller): DeviceMessage {
  const view = personalDataView(caller, device.userId);
  return create(DeviceSchema, {
    id: device.id,
    userId: device.userId,
    platform: PROTO_PLATFORM_OF[device.platform],
    token: view(device.token),
    appVersion: device.appVersion,
    active: device.active,
    lastSeenTime: timestampFromDate(device.lastSeenAt),
    createTime: timestampFromDate(device.createdAt),
  });
}
