import type { Channel } from "../channels.ts";
import type { InitialStatus, MessageStatus } from "./message-status.ts";
import type { MessageStatusEvent } from "./status-event.ts";

/** A message as the send pipeline first records it, once its delivery is claimed. */
export interface NewMessage {
  messageId: string;
  requestId: string;
  correlationId?: string;
  userId?: string;
  templateId?: string;
  templateVersion?: number;
  campaignId?: string;
  /** The campaign's A/B variant ("A", "B", …) it is of. */
  campaignVariant?: string;
  channel: Channel;
  /** The address, phone or device token it goes to (empty for in-app): sealed at rest. */
  recipient: string;
  priority: "high" | "normal" | "low";
  status: InitialStatus;
  /** Why it ended at once (the suppression or failure reason); empty otherwise. */
  statusDetails?: string;
  requestedAt: Date;
}

/** One status change reported for a message: by our pipeline, a provider or the user's client. */
export interface StatusChange {
  messageId: string;
  status: MessageStatus;
  at: Date;
  provider?: string;
  /** The provider's id for the message, as its send answered: what its later reports name. */
  providerMessageId?: string;
  /** The reason of a failure, suppression or expiry, as recorded; never an address or a body. */
  details?: string;
}

/** A round of tries that ended with the message still waiting for a provider. */
export interface FailedAttempts {
  messageId: string;
  attempts: number;
  /** The last provider's reason; never an address or a body. */
  lastError: string;
  provider?: string;
}

/** A message a provider reported on, found by the provider's id for it. */
export interface ReportedMessage {
  providerMessageId: string;
  /** Its status event's fields, for the event of the reported change. */
  event: Omit<MessageStatusEvent, "status" | "occurredAt" | "reason" | "reasonDetail" | "attempt">;
  status: MessageStatus;
  /** The address it went to, opened. */
  recipient: string;
}

/** A message sent with no report yet, as a provider that calls nobody back is asked about it. */
export interface AwaitingReport {
  providerMessageId: string;
  /**
   * The address it went to, opened (SMSC's status call needs the number with the id), or
   * null when it cannot be opened: sealed with a key no longer configured, or changed.
   */
  recipient: string | null;
}

/** How messages that waited for their time end without being sent. */
export interface WaitingEnd {
  status: "cancelled" | "failed";
  at: Date;
  reason?: string;
  reasonDetail?: string;
}

/** The message log, as one step of sending writes it inside its transaction. */
export interface MessageLog {
  /** Records new messages in one batch; a message id already there is left as it is. */
  append(messages: NewMessage[]): Promise<void>;
  /**
   * Applies the changes whose message is in a status that may precede them (message-status.ts),
   * and answers those it applied: a late or repeated report changes nothing and is not
   * reported again.
   */
  record(changes: StatusChange[]): Promise<StatusChange[]>;
  /**
   * Notes tries that failed on messages still `queued` (their providers down for now): the
   * attempts they cost, the last error and who gave it. Their status does not change.
   */
  noteAttempts(attempts: FailedAttempts[]): Promise<void>;
  /** The messages `provider` sent under these ids of its own; ids it does not know are left out. */
  findReported(provider: string, providerMessageIds: string[]): Promise<ReportedMessage[]>;
  /**
   * The messages `provider` sent, by our ids (a bounce quotes ours): ids it did not send, and
   * ids that are not ours at all, are left out.
   */
  findSent(provider: string, messageIds: string[]): Promise<ReportedMessage[]>;
  /**
   * The provider's messages still `sent` (no report yet) that were sent after `sentAfter`,
   * oldest first: what a provider that calls nobody back is asked about.
   */
  awaitingReport(provider: string, sentAfter: Date, limit: number): Promise<AwaitingReport[]>;
  /** Where each of these messages stands; ids it does not hold are left out. */
  statuses(messageIds: string[]): Promise<Map<string, MessageStatus>>;
  /**
   * Ends the request's messages that wait for their time: `cancelled`, or `failed` with a
   * reason when their release found nothing to send. Answers their status events.
   */
  endWaiting(requestId: string, end: WaitingEnd): Promise<MessageStatusEvent[]>;
}
