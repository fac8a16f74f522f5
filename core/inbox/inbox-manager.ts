import { DomainError, ErrorCatalog } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { EarlyReports } from "../sending/early-reports.ts";
import type { ProviderReport } from "../sending/provider-report.ts";
import {
  type ChangedInboxMessage,
  IN_APP_PROVIDER,
  type InboxChange,
  type InboxFilter,
  type InboxMessage,
} from "./inbox.ts";
import type { InboxStore } from "./inbox-store.ts";
import type { LiveInboxPublisher } from "./live-inbox.ts";

export interface InboxManagerDeps {
  store: InboxStore;
  live: LiveInboxPublisher;
  /** Patient with reports of messages not recorded as sent yet (EarlyReports): a client may ack first. */
  feedback: Pick<EarlyReports, "apply">;
  logger: Logger;
  now?: () => Date;
}

export interface InboxPage {
  messages: InboxMessage[];
  /** Empty on the last page. */
  nextPageToken: string;
}

const DEFAULT_PAGE_SIZE = 50;

/**
 * A user's inbox as the user acts on it, from InboxService or their WebSocket. An ack makes
 * its messages `delivered` and a first read makes a message `opened`, recorded as every other
 * status is. Other devices of the user hear each change; that they do is best effort, since
 * the change itself is stored and a reconnecting device reads it.
 */
export class InboxManager {
  private readonly now: () => Date;

  constructor(private readonly deps: InboxManagerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async list(userId: string, filter: InboxFilter, pageSize: number, pageToken: string): Promise<InboxPage> {
    const limit = pageSize > 0 ? pageSize : DEFAULT_PAGE_SIZE;
    const beforeSeq = pageToken === "" ? undefined : seqOfToken(pageToken);
    const rows = await this.deps.store.list(userId, filter, {
      ...(beforeSeq !== undefined ? { beforeSeq } : {}),
      limit: limit + 1,
    });
    const messages = rows.slice(0, limit);
    const last = messages.at(-1);
    return { messages, nextPageToken: rows.length > limit && last ? String(last.seq) : "" };
  }

  counts(userId: string): Promise<{ unread: number; headSeq: number }> {
    return this.deps.store.counts(userId);
  }

  /** Messages after `seq`, oldest first: what a reconnecting client missed. */
  after(userId: string, seq: number, limit: number): Promise<InboxMessage[]> {
    return this.deps.store.after(userId, seq, limit);
  }

  async mark(
    userId: string,
    seqs: readonly number[] | "all",
    change: InboxChange,
  ): Promise<{ changed: number; unread: number }> {
    const changed = await this.deps.store.mark(userId, seqs, change);
    if (change === "read") await this.report(changed, "opened");
    const { unread } = await this.deps.store.counts(userId);
    if (changed.length > 0) {
      await this.tellDevices(userId, { seqs: changed.map((message) => message.seq), change, unread });
    }
    return { changed: changed.length, unread };
  }

  /** A client holds every message up to `seq`. */
  async acknowledge(userId: string, upToSeq: number): Promise<number> {
    const delivered = await this.deps.store.acknowledge(userId, upToSeq);
    await this.report(delivered, "delivered");
    return delivered.length;
  }

  private async report(messages: ChangedInboxMessage[], kind: "delivered" | "opened"): Promise<void> {
    if (messages.length === 0) return;
    const at = this.now();
    const reports: ProviderReport[] = messages.map((message) => ({
      provider: IN_APP_PROVIDER,
      at,
      messageId: message.messageId,
      kind,
    }));
    await this.deps.feedback.apply(reports);
  }

  private async tellDevices(
    userId: string,
    change: { seqs: number[]; change: InboxChange; unread: number },
  ): Promise<void> {
    try {
      await this.deps.live.publish({ kind: "changed", userId, ...change });
    } catch (error) {
      this.deps.logger.warn({ err: error, userId }, "the other devices were not told of an inbox change");
    }
  }
}

function seqOfToken(token: string): number {
  const seq = Number(token);
  if (!/^[0-9]{1,15}$/.test(token) || seq < 1) {
    throw new DomainError(ErrorCatalog.validation, "page_token is not one this list gave", {
      pointer: "/page_token",
    });
  }
  return seq;
}
