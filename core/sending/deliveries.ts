import type { Channel } from "../channels.ts";
import type { ActiveDevices, DevicePlatform } from "../devices/index.ts";
import { fingerprint } from "../personal-data.ts";
import type { DeliveryKey } from "./delivery-claims.ts";
import { normalizePhone } from "./phone-number.ts";
import type { Destination } from "./provider.ts";
import type { SendRequest } from "./send-request.ts";

/** Why a delivery has nowhere to go; the message is recorded as failed with this code. */
export type MissingAddress =
  | "NO_EMAIL_ADDRESS"
  | "NO_PHONE_NUMBER"
  | "INVALID_PHONE_NUMBER"
  | "NO_DEVICE"
  | "NO_USER_ID";

/** One recipient of a request on one channel (and, for push, one of their devices). */
export type Delivery = { key: DeliveryKey; userId?: string } & (
  | { destination: Destination }
  | { destination?: undefined; missing: MissingAddress }
);

const PUSH_PLATFORMS: Partial<Record<Channel, DevicePlatform>> = {
  push_fcm: "android_fcm",
  push_apns: "ios_apns",
};

/**
 * The deliveries a request asks for, each with a key that stays the same when the request
 * arrives again: the user id where there is one (else the recipient's place in the list),
 * the channel, and for push a fingerprint of the device token, since a user's push goes to
 * each of their devices. Addresses given in the request win over stored ones.
 */
export function expandDeliveries(request: SendRequest, activeDevices: ActiveDevices): Delivery[] {
  const deliveries: Delivery[] = [];
  for (const [index, recipient] of request.recipients.entries()) {
    const who = recipient.userId ? `user:${recipient.userId}` : `recipient:${index}`;
    const user = recipient.userId ? { userId: recipient.userId } : {};
    const key = (channel: Channel, suffix = ""): DeliveryKey => ({
      requestId: request.requestId,
      recipientKey: who + suffix,
      channel,
    });
    for (const channel of request.channels) {
      const platform = PUSH_PLATFORMS[channel];
      if (platform) {
        const given = recipient.deviceTokens.filter((device) => device.platform === platform);
        const tokens =
          given.length > 0 || !recipient.userId
            ? given.map((device) => device.token)
            : activeDevices(recipient.userId, platform).map((device) => device.token);
        if (tokens.length === 0) deliveries.push({ key: key(channel), ...user, missing: "NO_DEVICE" });
        for (const token of new Set(tokens)) {
          deliveries.push({
            key: key(channel, `#${fingerprint(token)}`),
            ...user,
            destination: { channel: channel as "push_fcm" | "push_apns", deviceToken: token },
          });
        }
        continue;
      }
      const destination = destinationOf(channel, recipient);
      deliveries.push(
        typeof destination === "string"
          ? { key: key(channel), ...user, missing: destination }
          : { key: key(channel), ...user, destination },
      );
    }
  }
  return deliveries;
}

/** The users whose stored devices the requests' pushes go to: those who ask push of a platform and give no token of it. */
export function usersWithStoredDevices(requests: readonly SendRequest[]): string[] {
  const users: string[] = [];
  for (const request of requests) {
    const platforms = request.channels.flatMap((channel) => PUSH_PLATFORMS[channel] ?? []);
    if (platforms.length === 0) continue;
    for (const recipient of request.recipients) {
      const given = new Set(recipient.deviceTokens.map((device) => device.platform));
      if (recipient.userId && platforms.some((platform) => !given.has(platform)))
        users.push(recipient.userId);
    }
  }
  return users;
}

function destinationOf(
  channel: Channel,
  recipient: SendRequest["recipients"][number],
): Destination | MissingAddress {
  switch (channel) {
    case "email":
      return recipient.emailTo ? { channel, email: recipient.emailTo } : "NO_EMAIL_ADDRESS";
    case "sms": {
      if (!recipient.phoneTo) return "NO_PHONE_NUMBER";
      // One form for every provider, the claims and the suppression list: +79991234567.
      const phone = normalizePhone(recipient.phoneTo);
      return "e164" in phone ? { channel, phone: phone.e164 } : "INVALID_PHONE_NUMBER";
    }
    case "in_app":
      return recipient.userId ? { channel, userId: recipient.userId } : "NO_USER_ID";
    default:
      throw new Error(`${channel} is a push channel, expanded per device`);
  }
}
