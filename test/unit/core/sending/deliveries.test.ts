import { describe, expect, it } from "vitest";
import type { ActiveDevices, Device } from "../../../../core/devices/index.ts";
import { fingerprint } from "../../../../core/personal-data.ts";
import {
  expandDeliveries,
  type SendRequest,
  usersWithStoredDevices,
} from "../../../../core/sending/index.ts";

const stored: ActiveDevices = (userId, platform) => {
  if (userId !== "u-1" || platform !== "android_fcm") return [];
  return [{ token: "stored-fcm-token-1" }, { token: "stored-fcm-token-2" }] as Device[];
};

function request(changes: Partial<SendRequest>): SendRequest {
  return {
    requestId: "r-1",
    recipients: [],
    templateName: "t",
    languageCode: "ru",
    variables: {},
    channels: ["email"],
    priority: "normal",
    receivedAt: new Date(),
    ...changes,
  };
}

describe("expandDeliveries", () => {
  it("makes one delivery per recipient and channel, and one per device for push", async () => {
    const deliveries = expandDeliveries(
      request({
        channels: ["email", "push_fcm", "in_app"],
        recipients: [
          { userId: "u-1", emailTo: "a@example.com", deviceTokens: [] },
          { emailTo: "b@example.com", deviceTokens: [] },
        ],
      }),
      stored,
    );
    expect(
      deliveries.map((each) => [
        each.key.recipientKey,
        each.key.channel,
        each.destination ?? ("missing" in each ? each.missing : ""),
      ]),
    ).toEqual([
      ["user:u-1", "email", { channel: "email", email: "a@example.com" }],
      [
        `user:u-1#${fingerprint("stored-fcm-token-1")}`,
        "push_fcm",
        { channel: "push_fcm", deviceToken: "stored-fcm-token-1" },
      ],
      [
        `user:u-1#${fingerprint("stored-fcm-token-2")}`,
        "push_fcm",
        { channel: "push_fcm", deviceToken: "stored-fcm-token-2" },
      ],
      ["user:u-1", "in_app", { channel: "in_app", userId: "u-1" }],
      ["recipient:1", "email", { channel: "email", email: "b@example.com" }],
      ["recipient:1", "push_fcm", "NO_DEVICE"],
      ["recipient:1", "in_app", "NO_USER_ID"],
    ]);
  });

  it("takes the request's own tokens of the channel's platform over the stored ones, each once", async () => {
    const deliveries = expandDeliveries(
      request({
        channels: ["push_fcm", "push_apns", "sms"],
        recipients: [
          {
            userId: "u-1",
            deviceTokens: [
              { token: "given-fcm-token", platform: "android_fcm" },
              { token: "given-fcm-token", platform: "android_fcm" },
              { token: "given-apns-token", platform: "ios_apns" },
            ],
          },
        ],
      }),
      stored,
    );
    expect(deliveries.map((each) => each.destination ?? ("missing" in each ? each.missing : ""))).toEqual([
      { channel: "push_fcm", deviceToken: "given-fcm-token" },
      { channel: "push_apns", deviceToken: "given-apns-token" },
      "NO_PHONE_NUMBER",
    ]);
  });

  it("sends to a phone number in E.164 whatever form the request gave it in, and fails one that is none", async () => {
    const deliveries = expandDeliveries(
      request({
        channels: ["sms"],
        recipients: [
          { phoneTo: "8 (999) 123-45-67", deviceTokens: [] },
          { phoneTo: "+7 999 123 45 67", deviceTokens: [] },
          { phoneTo: "call me maybe", deviceTokens: [] },
        ],
      }),
      stored,
    );
    expect(deliveries.map((each) => each.destination ?? ("missing" in each ? each.missing : ""))).toEqual([
      { channel: "sms", phone: "+79991234567" },
      { channel: "sms", phone: "+79991234567" },
      "INVALID_PHONE_NUMBER",
    ]);
  });

  it("gives the same keys when the same request is expanded again", async () => {
    const same = request({
      channels: ["email", "push_fcm"],
      recipients: [{ userId: "u-1", emailTo: "a@example.com", deviceTokens: [] }],
    });
    const keys = () => expandDeliveries(same, stored).map((each) => each.key);
    expect(keys()).toEqual(keys());
  });

  it("reads stored devices only for users who ask push of a platform and give no token of it", () => {
    const users = usersWithStoredDevices([
      request({
        channels: ["push_fcm", "push_apns"],
        recipients: [
          {
            userId: "gives-both",
            deviceTokens: [
              { token: "f", platform: "android_fcm" },
              { token: "a", platform: "ios_apns" },
            ],
          },
          { userId: "gives-fcm", deviceTokens: [{ token: "f", platform: "android_fcm" }] },
          { userId: "gives-none", deviceTokens: [] },
          { emailTo: "no-user@example.com", deviceTokens: [] },
        ],
      }),
      request({ channels: ["email", "in_app"], recipients: [{ userId: "no-push", deviceTokens: [] }] }),
    ]);
    expect(users).toEqual(["gives-fcm", "gives-none"]);
  });
});
