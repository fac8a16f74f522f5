import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Caller } from "../../core/caller.ts";
import type { Device, DeviceManager, DevicePlatform } from "../../core/devices/index.ts";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import { personalDataView } from "../../core/personal-data.ts";
import {
  DeleteDeviceResponseSchema,
  type Device as DeviceMessage,
  DevicePlatform as DevicePlatformMessage,
  DeviceSchema,
  type DeviceService,
  ListDevicesResponseSchema,
} from "../../gen/platform/notification/v1/device_service_pb.ts";
import { callerKey } from "../api/caller-context.ts";

const PROTO_PLATFORM_OF: Record<DevicePlatform, DevicePlatformMessage> = {
  android_fcm: DevicePlatformMessage.ANDROID_FCM,
  ios_apns: DevicePlatformMessage.IOS_APNS,
};

const PLATFORM_OF = new Map(
  Object.entries(PROTO_PLATFORM_OF).map(([platform, proto]) => [proto, platform as DevicePlatform]),
);

/** DeviceService over the device manager: each method maps the request, calls core, maps the answer. */
export function deviceService(devices: DeviceManager): ServiceImpl<typeof DeviceService> {
  return {
    async registerDevice(request, context) {
      const registration = {
        userId: request.userId,
        platform: platformOf(request.platform),
        token: request.token,
        appVersion: request.appVersion,
      };
      const caller = context.values.get(callerKey);
      return deviceMessage(await devices.register(registration, caller), caller);
    },
    async listDevices(request, context) {
      const caller = context.values.get(callerKey);
      const list = await devices.list(request.userId);
      return create(ListDevicesResponseSchema, {
        devices: list.map((device) => deviceMessage(device, caller)),
      });
    },
    async deactivateDevice(request, context) {
      const caller = context.values.get(callerKey);
      return deviceMessage(await devices.deactivate(request.userId, request.deviceId, caller), caller);
    },
    async deleteDevice(request, context) {
      await devices.delete(request.userId, request.deviceId, context.values.get(callerKey));
      return create(DeleteDeviceResponseSchema);
    },
  };
}

// Validation rejects UNSPECIFIED and undefined numbers before a handler runs.
function platformOf(platform: DevicePlatformMessage): DevicePlatform {
  const known = PLATFORM_OF.get(platform);
  if (!known)
    throw new DomainError(ErrorCatalog.validation, "platform: value is required", { pointer: "/platform" });
  return known;
}

/** The device as `caller` may see it: its token masked unless the caller sees the owner's data in full. */
function deviceMessage(device: Device, caller: Caller): DeviceMessage {
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
