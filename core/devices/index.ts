export type { Device, DevicePlatform, DeviceRegistration } from "./device.ts";
export { DeviceManager, mayMoveTokens } from "./device-manager.ts";
export type { DeviceStore, RegisterOutcome } from "./device-store.ts";
export { type ActiveDevices, type PushTargets, StoredPushTargets } from "./push-targets.ts";
