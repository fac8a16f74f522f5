/** Where a push token comes from: the spec's `device_platform` values. */
export type DevicePlatform = "android_fcm" | "ios_apns";

export interface DeviceRegistration {
  userId: string;
  platform: DevicePlatform;
  /** The FCM registration token or APNs device token: personal data, never logged in clear. */
  token: string;
  /** Empty when the client did not say. */
  appVersion: string;
}

export interface Device extends DeviceRegistration {
  id: string;
  /** Inactive devices receive no pushes. */
  active: boolean;
  lastSeenAt: Date;
  createdAt: Date;
}
