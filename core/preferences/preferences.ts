import type { Channel } from "../channels.ts";

/** A notification type's switch, and the channels it may use (empty: every channel that is on). */
export interface TypePreference {
  enabled: boolean;
  channels: Channel[];
}

/** What a user sets; replaced as a whole on every update. */
export interface PreferenceSettings {
  /** Nothing but legally required notifications reaches the user. */
  globalUnsubscribe: boolean;
  /** A channel not listed is on. */
  channels: Partial<Record<Channel, boolean>>;
  /** Keyed by notification type ("marketing", "order_status"); a type not listed is on. */
  types: Record<string, TypePreference>;
}

export interface UserPreferences extends PreferenceSettings {
  userId: string;
  /** True for a user who never saved preferences. */
  isDefault: boolean;
  /** 0 until the first save, then one more with every change. */
  revision: number;
  /** Null until the first save. */
  updatedAt: Date | null;
}

/** What a user who never saved anything gets: every channel and type on. */
export function defaultPreferences(userId: string): UserPreferences {
  return {
    userId,
    globalUnsubscribe: false,
    channels: {},
    types: {},
    isDefault: true,
    revision: 0,
    updatedAt: null,
  };
}
