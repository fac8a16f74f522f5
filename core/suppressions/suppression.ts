import type { Channel } from "../channels.ts";

/** Why a channel no longer sends to an address. */
export type SuppressionReason = "hard_bounce" | "complaint" | "invalid_destination" | "manual";

/** An address (an email, a phone, a device token) one channel does not send to. */
export interface Suppression {
  id: string;
  channel: Channel;
  /** The address itself; shown masked unless the caller may see recipients; empty when it can no longer be opened. */
  recipient: string;
  reason: SuppressionReason;
  details?: string;
  /** The provider that reported it, or the admin who added it. */
  source: string;
  /** The message whose report suppressed it. */
  messageId?: string;
  createdAt: Date;
}

export type NewSuppression = Omit<Suppression, "id" | "createdAt">;
