import { describe, expect, it } from "vitest";
import { CHANNELS } from "../../../../core/channels.ts";
import {
  defaultPreferences,
  type PreferenceSettings,
  receiveDecision,
} from "../../../../core/preferences/index.ts";

const settings = (overrides: Partial<PreferenceSettings> = {}): PreferenceSettings => ({
  globalUnsubscribe: false,
  channels: {},
  types: {},
  ...overrides,
});

describe("receiveDecision", () => {
  it("lets every type through every channel for a user who never saved preferences", () => {
    const preferences = defaultPreferences("4b9e2f4e-2c1e-4a5b-9a51-8b1d1f3e6c70");
    for (const channel of CHANNELS) {
      for (const type of ["marketing", "order_status", "security"]) {
        expect(receiveDecision(preferences, { type, channel })).toEqual({ receive: true });
      }
    }
  });

  it("stops everything after a global unsubscribe, whatever the channel and type switches say", () => {
    const preferences = settings({
      globalUnsubscribe: true,
      channels: { email: true },
      types: { order_status: { enabled: true, channels: ["email"] } },
    });
    for (const channel of CHANNELS) {
      expect(receiveDecision(preferences, { type: "order_status", channel })).toEqual({
        receive: false,
        reason: "global_unsubscribe",
      });
    }
  });

  it("lets a legally required notification through every switch", () => {
    const preferences = settings({
      globalUnsubscribe: true,
      channels: { sms: false },
      types: { security: { enabled: false, channels: ["email"] } },
    });
    expect(receiveDecision(preferences, { type: "security", channel: "sms", legallyRequired: true })).toEqual(
      {
        receive: true,
      },
    );
  });

  it("stops a channel switched off for every type, and only that channel", () => {
    const preferences = settings({ channels: { sms: false, email: true } });
    expect(receiveDecision(preferences, { type: "order_status", channel: "sms" })).toEqual({
      receive: false,
      reason: "channel_disabled",
    });
    expect(receiveDecision(preferences, { type: "order_status", channel: "email" })).toEqual({
      receive: true,
    });
    expect(receiveDecision(preferences, { type: "order_status", channel: "push_fcm" })).toEqual({
      receive: true,
    });
  });

  it("stops a type switched off on every channel, and leaves other types alone", () => {
    const preferences = settings({ types: { marketing: { enabled: false, channels: [] } } });
    for (const channel of CHANNELS) {
      expect(receiveDecision(preferences, { type: "marketing", channel })).toEqual({
        receive: false,
        reason: "type_disabled",
      });
      expect(receiveDecision(preferences, { type: "order_status", channel })).toEqual({ receive: true });
    }
  });

  it("keeps a type to the channels it lists", () => {
    const preferences = settings({
      types: { order_status: { enabled: true, channels: ["push_fcm", "in_app"] } },
    });
    expect(receiveDecision(preferences, { type: "order_status", channel: "push_fcm" })).toEqual({
      receive: true,
    });
    expect(receiveDecision(preferences, { type: "order_status", channel: "in_app" })).toEqual({
      receive: true,
    });
    expect(receiveDecision(preferences, { type: "order_status", channel: "email" })).toEqual({
      receive: false,
      reason: "type_channel_not_selected",
    });
  });

  it("lets an enabled type with no channel list through every channel that is on", () => {
    const preferences = settings({ types: { order_status: { enabled: true, channels: [] } } });
    for (const channel of CHANNELS) {
      expect(receiveDecision(preferences, { type: "order_status", channel })).toEqual({ receive: true });
    }
  });

  it("still applies the channel switch to a type that lists the channel", () => {
    const preferences = settings({
      channels: { email: false },
      types: { order_status: { enabled: true, channels: ["email", "sms"] } },
    });
    expect(receiveDecision(preferences, { type: "order_status", channel: "email" })).toEqual({
      receive: false,
      reason: "channel_disabled",
    });
    expect(receiveDecision(preferences, { type: "order_status", channel: "sms" })).toEqual({ receive: true });
  });

  it("names the broadest switch when several stop the same notification", () => {
    const preferences = settings({
      channels: { email: false },
      types: { marketing: { enabled: false, channels: ["sms"] } },
    });
    expect(receiveDecision(preferences, { type: "marketing", channel: "email" })).toEqual({
      receive: false,
      reason: "channel_disabled",
    });
    expect(receiveDecision(preferences, { type: "marketing", channel: "sms" })).toEqual({
      receive: false,
      reason: "type_disabled",
    });
  });

  it("treats a type named like an Object property as an ordinary, unlisted type", () => {
    for (const type of ["constructor", "__proto__"]) {
      expect(receiveDecision(settings(), { type, channel: "email" })).toEqual({ receive: true });
    }
    const preferences = settings({ types: { constructor: { enabled: false, channels: [] } } });
    expect(receiveDecision(preferences, { type: "constructor", channel: "email" })).toEqual({
      receive: false,
      reason: "type_disabled",
    });
  });

  it("reads a channel switched explicitly on like one left out", () => {
    const on = settings({ channels: { in_app: true } });
    expect(receiveDecision(on, { type: "order_status", channel: "in_app" })).toEqual({ receive: true });
  });
});
