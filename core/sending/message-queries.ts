import type { Channel } from "../channels.ts";
import type { MessageStatus } from "./message-status.ts";
import type { Priority } from "./send-request.ts";

/** A message as the message log holds it, its recipient opened. */
export interface LoggedMessage {
  id: string;
  requestId: string;
  correlationId: string;
  /** Empty when the request named only an address. */
  userId: string;
  /** Empty when the message was not rendered from a template, or the template is gone. */
  templateId: string;
  templateName: string;
  /** 0 when not from a template. */
  templateVersion: number;
  campaignId: string;
  /** Empty outside a campaign of A/B variants. */
  campaignVariant: string;
  channel: Channel;
  /**
   * In clear (the caller's view of it is the edge's to apply, recipientView), or null when
   * the log cannot open it: sealed with a key that is no longer configured.
   */
  recipient: string | null;
  priority: Priority;
  status: MessageStatus;
  statusDetails: string;
  providerName: string;
  attempts: number;
  lastError: string;
  requestedAt: Date;
  sentAt: Date | null;
  deliveredAt: Date | null;
  /** The reader's first open and click. */
  openedAt: Date | null;
  clickedAt: Date | null;
  updatedAt: Date;
  /** A tracked email's opens and clicks by its reader, every one. */
  opens: number;
  clicks: number;
  /** Those by privacy proxies and link scanners, counted apart. */
  machineOpens: number;
  machineClicks: number;
}

/** Every filter set must match; none set lists the whole log. */
export interface MessageFilter {
  userId?: string;
  requestId?: string;
  correlationId?: string;
  status?: MessageStatus;
  channel?: Channel;
  /** Requested at or after. */
  requestedFrom?: Date;
  /** Requested before. */
  requestedTo?: Date;
  /** The exact address, phone or token (an email in any case). */
  recipient?: string;
  pageSize: number;
  pageToken?: string;
}

export interface MessagePage {
  /** Newest first: by requested time, then id, both descending. */
  messages: LoggedMessage[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/** Reads of the message log, for the API; the pipeline writes it through MessageLog. */
export interface MessageQueries {
  get(id: string): Promise<LoggedMessage | undefined>;
  /** Throws a validation DomainError for a page token it did not give. */
  list(filter: MessageFilter): Promise<MessagePage>;
}
