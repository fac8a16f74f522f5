import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { DeviceManager } from "../../core/devices/index.ts";
import {
  DeleteDeviceResponseSchema,
  type DeviceService,
  ListDevicesResponseSchema,
} from "../../gen/platform/notification/v1/device_service_pb.ts";
import { deviceMessage, platformOf } from "../../mappers/index.ts";
import { callerKey } from "../api/caller-context.ts";

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
