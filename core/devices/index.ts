export type { Device, DevicePlatform, DeviceRegistration } from "./device.ts";
export { DeviceManager } from "./device-manager.ts";
export type { DeviceStore } from "./device-store.ts";
