import type { Channel } from "../channels.ts";
import type { MessageStatus } from "./message-status.ts";
import type { OutboxEvent } from "./outbox.ts";
import type { Priority } from "./send-request.ts";

/**
 * A status change of one message as it is told to the platform (the status event) and to
 * statistics: who it was for, by which template and channel, and how it stands now.
 * Never an address, a token or a body.
 */
export interface MessageStatusEvent {
  messageId: string;
  requestId: string;
  correlationId?: string;
  campaignId?: string;
  /** The campaign's A/B variant ("A", "B", …); absent for a campaign of one template. */
  campaignVariant?: string;
  userId?: string;
  channel: Channel;
  status: MessageStatus;
  /** A code in capitals, e.g. GLOBAL_UNSUBSCRIBE, for failed, suppressed and expired. */
  reason?: string;
  /** The reason in words, already clean of personal data. */
  reasonDetail?: string;
  provider?: string;
  providerMessageId?: string;
  templateName: string;
  templateVersion: number;
  /** How many sends were tried so far. */
  attempt: number;
  occurredAt: Date;
  /** When the request was accepted: the statistics' latency is measured from it. */
  acceptedAt: Date;
  priority: Priority;
}

/** Turns status changes into the events the outbox carries (their format is the transport's). */
export interface StatusEventEncoder {
  encode(events: MessageStatusEvent[]): OutboxEvent[];
}
