/** A delivery channel, as the domain names it (the spec's `channel_type` values). */
export type Channel = "email" | "sms" | "push_fcm" | "push_apns" | "in_app";

export const CHANNELS: readonly Channel[] = ["email", "sms", "push_fcm", "push_apns", "in_app"];
