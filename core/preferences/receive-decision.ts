import type { Channel } from "../channels.ts";
import type { PreferenceSettings } from "./preferences.ts";

export interface Delivery {
  /** The notification type, e.g. "order_status". */
  type: string;
  channel: Channel;
  /** Required by law (a security or account notice): reaches the user whatever they chose. */
  legallyRequired?: boolean;
}

/** Why a user does not receive a notification; the message log records it as the suppression reason. */
export type SuppressionReason =
  | "global_unsubscribe"
  | "channel_disabled"
  | "type_disabled"
  | "type_channel_not_selected";

export type ReceiveDecision = { receive: true } | { receive: false; reason: SuppressionReason };

const RECEIVE: ReceiveDecision = Object.freeze({ receive: true });

/**
 * Whether a user with these preferences receives `delivery`. The checks go from the
 * broadest choice to the narrowest, so the reason names the switch the user turned.
 */
export function receiveDecision(preferences: PreferenceSettings, delivery: Delivery): ReceiveDecision {
  if (delivery.legallyRequired) return RECEIVE;
  if (preferences.globalUnsubscribe) return { receive: false, reason: "global_unsubscribe" };
  if (preferences.channels[delivery.channel] === false) return { receive: false, reason: "channel_disabled" };
  const type = Object.hasOwn(preferences.types, delivery.type) ? preferences.types[delivery.type] : undefined;
  if (!type) return RECEIVE;
  if (!type.enabled) return { receive: false, reason: "type_disabled" };
  if (type.channels.length > 0 && !type.channels.includes(delivery.channel)) {
    return { receive: false, reason: "type_channel_not_selected" };
  }
  return RECEIVE;
}
