import type { Channel } from "../channels.ts";
import { MESSAGE_STATUSES, type MessageStatus } from "../sending/index.ts";

/**
 * The status changes of a message that statistics count (DESIGN §4 step 7): every one but
 * waiting for a send time and being cancelled while waiting, which no send followed.
 */
export type DeliveryStatus = Exclude<MessageStatus, "scheduled" | "cancelled">;

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = MESSAGE_STATUSES.filter(
  (status): status is DeliveryStatus => status !== "scheduled" && status !== "cancelled",
);

/** One status change of one message, as statistics keep it. No address, token or body. */
export interface DeliveryStatsRow {
  occurredAt: Date;
  /** The message's UUID. */
  messageId: string;
  requestId: string;
  userId: string;
  channel: Channel;
  status: DeliveryStatus;
  templateName: string;
  templateVersion: number;
  language: string;
  /** Empty when none was involved (not yet dispatched, or suppressed). */
  provider?: string;
  priority?: string;
  campaignId?: string;
  campaignVariant?: string;
  /** The catalog code of a failure or a suppression, e.g. "TOKEN_EXPIRED". */
  errorCode?: string;
  /** Why, in words already cleaned of personal data (a provider's message is cleaned before it gets here). */
  reason?: string;
  /** From the request's intake to this status change. */
  latencyMs?: number;
}

/**
 * Where the pipeline hands every status change for statistics. Batched and written
 * off the hot path: `record` resolves as soon as the row is held in bounded memory,
 * and only waits when that memory is full (the statistics store is down or slow),
 * which slows the caller down rather than losing the row.
 */
export interface DeliveryStatsSink {
  record(row: DeliveryStatsRow): Promise<void>;
}
