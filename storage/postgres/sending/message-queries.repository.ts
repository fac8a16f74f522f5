import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Channel } from "../../../core/channels.ts";
import type {
  LoggedMessage,
  MessageFilter,
  MessagePage,
  MessageQueries,
  MessageStatus,
  Priority,
} from "../../../core/sending/index.ts";
import { cursorOf, pageTokenOf } from "../keyset-cursor.ts";
import { lookupForm, openedRecipient } from "./message-log.repository.ts";
import type { RecipientCipher } from "./recipient-cipher.ts";

interface LogRow {
  id: string;
  request_id: string;
  correlation_id: string | null;
  user_id: string | null;
  template_id: string | null;
  template_name: string | null;
  template_version: number | null;
  campaign_id: string | null;
  campaign_variant: string | null;
  channel_type: Channel;
  recipient_address: string;
  priority: Priority;
  status: MessageStatus;
  status_details: string | null;
  provider_name: string | null;
  attempts: number;
  last_error: string | null;
  // Raw queries give timestamps as the driver's text, not Dates.
  requested_at: string;
  // The cursor's exact time: a Date keeps milliseconds, the column microseconds.
  requested_us: string;
  sent_at: string | null;
  delivered_at: string | null;
  opened_at: string | null;
  clicked_at: string | null;
  updated_at: string;
  opens: number;
  clicks: number;
  machine_opens: number;
  machine_clicks: number;
}

// The template's name is joined in, deleted templates included: the log names what was sent.
const SELECT = `SELECT log.*, t.name AS template_name,
    (extract(epoch FROM log.requested_at) * 1000000)::bigint::text AS requested_us
  FROM notification_message_log AS log
  LEFT JOIN notification_templates AS t ON t.id = log.template_id`;

/** MessageQueries on PostgreSQL, opening each recipient with the cipher that sealed it. */
export class PostgresMessageQueries implements MessageQueries {
  constructor(
    private readonly orm: MikroORM,
    private readonly cipher: RecipientCipher,
  ) {}

  private em(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }

  async get(id: string): Promise<LoggedMessage | undefined> {
    const [row] = await this.em().execute<LogRow[]>(`${SELECT} WHERE log.id = ?`, [id]);
    return row ? this.messageOf(row) : undefined;
  }

  async list(filter: MessageFilter): Promise<MessagePage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (condition: string, ...values: unknown[]) => {
      where.push(condition);
      params.push(...values);
    };
    if (filter.userId) add("log.user_id = ?", filter.userId);
    if (filter.requestId) add("log.request_id = ?", filter.requestId);
    if (filter.correlationId) add("log.correlation_id = ?", filter.correlationId);
    if (filter.status) add("log.status = ?", filter.status);
    if (filter.channel) add("log.channel_type = ?", filter.channel);
    if (filter.requestedFrom) add("log.requested_at >= ?", filter.requestedFrom.toISOString());
    if (filter.requestedTo) add("log.requested_at < ?", filter.requestedTo.toISOString());
    if (filter.recipient) {
      // Each row's hash is of its channel's lookup form, so the value is hashed in both; an
      // in-app message to its own user has no hash, and is found by its user_id.
      add(
        `((log.channel_type = 'email' AND log.recipient_hash = ?) OR (log.channel_type <> 'email' AND log.recipient_hash = ?)
          OR (log.channel_type = 'in_app' AND log.recipient_address = '' AND log.user_id = ?))`,
        this.cipher.lookupHash(lookupForm("email", filter.recipient)),
        this.cipher.lookupHash(filter.recipient),
        filter.recipient,
      );
    }
    if (filter.pageToken) {
      const after = cursorOf(filter.pageToken);
      add(
        "(log.requested_at, log.id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)",
        after.us,
        after.id,
      );
    }
    const rows = await this.em().execute<LogRow[]>(
      `${SELECT} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY log.requested_at DESC, log.id DESC LIMIT ?`,
      [...params, filter.pageSize + 1],
    );
    const page = rows.slice(0, filter.pageSize);
    const last = page.at(-1);
    return {
      messages: page.map((row) => this.messageOf(row)),
      nextPageToken:
        rows.length > filter.pageSize && last ? pageTokenOf({ us: last.requested_us, id: last.id }) : "",
    };
  }

  private messageOf(row: LogRow): LoggedMessage {
    return {
      id: row.id,
      requestId: row.request_id,
      correlationId: row.correlation_id ?? "",
      userId: row.user_id ?? "",
      templateId: row.template_id ?? "",
      templateName: row.template_name ?? "",
      templateVersion: row.template_version ?? 0,
      campaignId: row.campaign_id ?? "",
      campaignVariant: row.campaign_variant ?? "",
      channel: row.channel_type,
      recipient: openedRecipient(this.cipher, row),
      priority: row.priority,
      status: row.status,
      statusDetails: row.status_details ?? "",
      providerName: row.provider_name ?? "",
      attempts: row.attempts,
      lastError: row.last_error ?? "",
      requestedAt: new Date(row.requested_at),
      sentAt: dateOf(row.sent_at),
      deliveredAt: dateOf(row.delivered_at),
      openedAt: dateOf(row.opened_at),
      clickedAt: dateOf(row.clicked_at),
      updatedAt: new Date(row.updated_at),
      opens: row.opens,
      clicks: row.clicks,
      machineOpens: row.machine_opens,
      machineClicks: row.machine_clicks,
    };
  }
}

function dateOf(text: string | null): Date | null {
  return text === null ? null : new Date(text);
}
