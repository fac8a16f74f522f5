import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CHANNELS, type Channel } from "../core/channels.ts";
import { DomainError, ErrorCatalog } from "../core/errors.ts";
import type { PreferenceSettings, TypePreference, UserPreferences } from "../core/preferences/index.ts";
import {
  ChannelPreferenceSchema,
  type TypePreference as TypePreferenceMessage,
  TypePreferenceSchema,
  type UserPreferences as UserPreferencesMessage,
  UserPreferencesSchema,
} from "../gen/platform/notification/v1/preference_service_pb.ts";
import { channelOf, protoChannelOf } from "./channels.ts";

// Validation has run: every channel is defined and not UNSPECIFIED. The output-only
// fields (user_id, is_default, revision, update_time) of the message are ignored.
export function settingsOf(message: UserPreferencesMessage | undefined): PreferenceSettings {
  const channels: Partial<Record<Channel, boolean>> = {};
  for (const [index, entry] of (message?.channels ?? []).entries()) {
    const channel = channelOf(entry.channel);
    if (!channel) continue;
    if (Object.hasOwn(channels, channel)) {
      throw new DomainError(ErrorCatalog.validation, `channel ${channel} is listed more than once`, {
        pointer: `/preferences/channels/${index}/channel`,
      });
    }
    channels[channel] = entry.enabled;
  }
  const types = Object.fromEntries(
    Object.entries(message?.notificationTypes ?? {}).map(([type, preference]) => [type, typeOf(preference)]),
  );
  return { globalUnsubscribe: message?.globalUnsubscribe ?? false, channels, types };
}

function typeOf(message: TypePreferenceMessage): TypePreference {
  return {
    enabled: message.enabled,
    channels: message.channels.flatMap((channel) => channelOf(channel) ?? []),
  };
}

/** Every channel with its effective switch, so a client sees what applies without knowing the defaults. */
export function preferencesMessage(preferences: UserPreferences): UserPreferencesMessage {
  return create(UserPreferencesSchema, {
    userId: preferences.userId,
    globalUnsubscribe: preferences.globalUnsubscribe,
    channels: CHANNELS.map((channel) =>
      create(ChannelPreferenceSchema, {
        channel: protoChannelOf(channel),
        enabled: preferences.channels[channel] ?? true,
      }),
    ),
    notificationTypes: Object.fromEntries(
      Object.entries(preferences.types).map(([type, preference]) => [
        type,
        create(TypePreferenceSchema, {
          enabled: preference.enabled,
          channels: preference.channels.map(protoChannelOf),
        }),
      ]),
    ),
    isDefault: preferences.isDefault,
    revision: BigInt(preferences.revision),
    ...(preferences.updatedAt ? { updateTime: timestampFromDate(preferences.updatedAt) } : {}),
  });
}
