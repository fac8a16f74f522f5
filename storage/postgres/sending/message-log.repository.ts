import type { EntityManager } from "@mikro-orm/postgresql";
import type { Channel } from "../../../core/channels.ts";
import {
  type AwaitingReport,
  type CommittedEvents,
  type FailedAttempts,
  MESSAGE_STATUSES,
  type MessageLog,
  type MessageStatus,
  type MessageStatusEvent,
  type NewMessage,
  type OutboxEvent,
  type ReportedMessage,
  type StatusChange,
  statusesBefore,
  type WaitingEnd,
} from "../../../core/sending/index.ts";
import { boundQuery } from "../bound-sql.ts";
import { packEvents } from "./outbox-rows.ts";
import type { RecipientCipher } from "./recipient-cipher.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Rows per INSERT: a parameter per column each (MESSAGE_COLUMNS), well under PostgreSQL's 65,535 per statement.
const APPEND_BATCH = 1_000;

// core's rule of which status may follow which, as SQL: the statuses a row must be in for
// the change `c` to apply.
const PRECEDING_STATUSES = `(CASE c.status ${MESSAGE_STATUSES.map(
  (status) =>
    `WHEN '${status}' THEN ARRAY[${statusesBefore(status)
      .map((before) => `'${before}'`)
      .join(", ")}]::text[]`,
).join(" ")} END)`;

// What a change `c` (id, status, at, provider, details) does to its row `log`.
const APPLY_CHANGE = `status = c.status,
  provider_name = COALESCE(c.provider, log.provider_name),
  provider_message_id = COALESCE(c.provider_message_id, log.provider_message_id),
  status_details = COALESCE(c.details, log.status_details),
  last_error = CASE WHEN c.status = 'failed' THEN c.details ELSE log.last_error END,
  attempts = log.attempts + CASE WHEN c.status IN ('sent', 'failed') THEN 1 ELSE 0 END,
  sent_at = CASE WHEN c.status = 'sent' THEN COALESCE(log.sent_at, c.at) ELSE log.sent_at END,
  delivered_at = CASE WHEN c.status = 'delivered' THEN COALESCE(log.delivered_at, c.at) ELSE log.delivered_at END,
  opened_at = CASE WHEN c.status = 'opened' THEN COALESCE(log.opened_at, c.at) ELSE log.opened_at END,
  clicked_at = CASE WHEN c.status = 'clicked' THEN COALESCE(log.clicked_at, c.at) ELSE log.clicked_at END,
  updated_at = now()`;

/** The message log inside one transaction of the unit of work. */
export class PostgresMessageLog implements MessageLog {
  constructor(
    private readonly em: EntityManager,
    private readonly cipher: RecipientCipher,
  ) {}

  async append(messages: NewMessage[]): Promise<void> {
    for (let start = 0; start < messages.length; start += APPEND_BATCH) {
      const batch = messages.slice(start, start + APPEND_BATCH);
      const rows = batch.map(() => ROW_PLACEHOLDERS).join(", ");
      await boundQuery(
        this.em,
        `INSERT INTO notification_message_log (${MESSAGE_COLUMNS.map(([name]) => name).join(", ")})
         VALUES ${rows} ON CONFLICT (id) DO NOTHING`,
        batch.flatMap((message) => messageRow(this.cipher, message)),
      );
    }
  }

  async record(changes: StatusChange[]): Promise<StatusChange[]> {
    const applied: StatusChange[] = [];
    // An UPDATE … FROM applies one change per row: several changes of one message go in turns.
    for (const round of rounds(changes)) {
      const values = round.map(() => "(?::uuid, ?, ?::timestamptz, ?, ?, ?)").join(", ");
      const rows = await boundQuery<{ id: string; status: string }>(
        this.em,
        `UPDATE notification_message_log AS log SET ${APPLY_CHANGE}
         FROM (VALUES ${values}) AS c (id, status, at, provider, details, provider_message_id)
         WHERE log.id = c.id AND log.status = ANY ${PRECEDING_STATUSES}
         RETURNING log.id, c.status`,
        round.flatMap((change) => [
          change.messageId,
          change.status,
          change.at.toISOString(),
          change.provider ?? null,
          change.details ?? null,
          change.providerMessageId ?? null,
        ]),
      );
      const done = new Set(rows.map((row) => `${row.id} ${row.status}`));
      applied.push(...round.filter((change) => done.has(`${change.messageId} ${change.status}`)));
    }
    return applied;
  }

  async noteAttempts(attempts: FailedAttempts[]): Promise<void> {
    if (attempts.length === 0) return;
    await boundQuery(
      this.em,
      `UPDATE notification_message_log AS log
          SET attempts = log.attempts + a.attempts, last_error = a.last_error,
              provider_name = COALESCE(a.provider, log.provider_name), updated_at = now()
         FROM unnest(?::uuid[], ?::int[], ?::text[], ?::text[]) AS a (id, attempts, last_error, provider)
        WHERE log.id = a.id AND log.status = 'queued'`,
      [
        attempts.map((each) => each.messageId),
        attempts.map((each) => each.attempts),
        attempts.map((each) => each.lastError),
        attempts.map((each) => each.provider ?? null),
      ],
    );
  }

  async statuses(messageIds: string[]): Promise<Map<string, MessageStatus>> {
    if (messageIds.length === 0) return new Map();
    const rows = await boundQuery<{ id: string; status: MessageStatus }>(
      this.em,
      "SELECT id, status FROM notification_message_log WHERE id = ANY(?::uuid[])",
      [`{${messageIds.join(",")}}`],
    );
    return new Map(rows.map((row) => [row.id, row.status]));
  }

  async endWaiting(requestId: string, end: WaitingEnd): Promise<MessageStatusEvent[]> {
    const details = end.reason ?? null;
    const rows = await boundQuery<EndedRow>(
      this.em,
      `UPDATE notification_message_log AS log SET status = ?, status_details = ?,
         last_error = CASE WHEN ? = 'failed' THEN ? ELSE log.last_error END, updated_at = now()
        WHERE log.request_id = ? AND log.status = 'scheduled'
        RETURNING log.id, log.request_id, log.correlation_id, log.campaign_id, log.campaign_variant, log.user_id, log.channel_type,
          log.template_version, log.priority, log.requested_at,
          (SELECT name FROM notification_templates WHERE id = log.template_id) AS template_name`,
      [
        end.status,
        details,
        end.status,
        end.reasonDetail ? `${details}: ${end.reasonDetail}` : details,
        requestId,
      ],
    );
    return rows.map((row) => ({
      ...eventBaseOf(row),
      status: end.status,
      ...(end.reason ? { reason: end.reason } : {}),
      ...(end.reasonDetail ? { reasonDetail: end.reasonDetail } : {}),
      attempt: 0,
      occurredAt: end.at,
    }));
  }

  async awaitingReport(provider: string, sentAfter: Date, limit: number): Promise<AwaitingReport[]> {
    const rows = await boundQuery<StoredRecipient & { provider_message_id: string }>(
      this.em,
      `SELECT id, provider_message_id, channel_type, user_id, recipient_address FROM notification_message_log
        WHERE provider_name = ? AND status = 'sent' AND sent_at > ? AND provider_message_id IS NOT NULL
        ORDER BY sent_at LIMIT ?`,
      [provider, sentAfter.toISOString(), limit],
    );
    return rows.map((row) => ({
      providerMessageId: row.provider_message_id,
      recipient: openedRecipient(this.cipher, row),
    }));
  }

  async findReported(provider: string, providerMessageIds: string[]): Promise<ReportedMessage[]> {
    if (providerMessageIds.length === 0) return [];
    return this.reported(provider, "log.provider_message_id = ANY(?::text[])", providerMessageIds);
  }

  async findSent(provider: string, messageIds: string[]): Promise<ReportedMessage[]> {
    // Ours are UUIDs: anything else a report quotes names no message, and would fail the cast.
    const ours = messageIds.filter((id) => UUID.test(id));
    if (ours.length === 0) return [];
    return this.reported(provider, "log.id = ANY(?::uuid[])", ours);
  }

  /** The messages `provider` sent that `where` picks, `ids` bound to its one parameter. */
  private async reported(provider: string, where: string, ids: string[]): Promise<ReportedMessage[]> {
    const rows = await boundQuery<
      EndedRow & StoredRecipient & { provider_message_id: string | null; status: MessageStatus }
    >(
      this.em,
      `SELECT log.id, log.request_id, log.correlation_id, log.campaign_id, log.campaign_variant, log.user_id, log.channel_type,
          log.template_version, log.priority, log.requested_at, log.status, log.provider_message_id,
          log.recipient_address, t.name AS template_name
         FROM notification_message_log AS log
         LEFT JOIN notification_templates AS t ON t.id = log.template_id
        WHERE log.provider_name = ? AND ${where}`,
      [provider, ids],
    );
    return rows.map((row) => ({
      providerMessageId: row.provider_message_id ?? "",
      event: { ...eventBaseOf(row), provider },
      status: row.status,
      recipient: recipientOfRow(this.cipher, row),
    }));
  }
}

/** The fields of a message's status events that its row holds. */
function eventBaseOf(row: EndedRow) {
  return {
    messageId: row.id,
    requestId: row.request_id,
    ...(row.correlation_id ? { correlationId: row.correlation_id } : {}),
    ...(row.campaign_id ? { campaignId: row.campaign_id } : {}),
    ...(row.campaign_variant ? { campaignVariant: row.campaign_variant } : {}),
    ...(row.user_id ? { userId: row.user_id } : {}),
    channel: row.channel_type,
    templateName: row.template_name ?? "",
    templateVersion: row.template_version ?? 0,
    acceptedAt: new Date(row.requested_at),
    priority: row.priority,
  };
}

interface EndedRow {
  id: string;
  request_id: string;
  correlation_id: string | null;
  campaign_id: string | null;
  campaign_variant: string | null;
  user_id: string | null;
  channel_type: Channel;
  template_version: number | null;
  priority: MessageStatusEvent["priority"];
  requested_at: string | Date;
  template_name: string | null;
}

/** The message log's columns of a new message, in the order of MESSAGE_COLUMNS; the recipient sealed. */
export function messageRow(cipher: RecipientCipher, message: NewMessage): unknown[] {
  const details = message.statusDetails || null;
  return [
    message.messageId,
    message.requestId,
    message.correlationId || null,
    message.userId || null,
    message.templateId || null,
    message.templateVersion ?? null,
    message.campaignId || null,
    message.campaignVariant || null,
    message.channel,
    recipientIsUser(message) ? "" : cipher.seal(message.recipient, message.messageId),
    // Looked up by its user_id instead (message-queries.repository.ts).
    message.recipient && !recipientIsUser(message)
      ? cipher.lookupHash(lookupForm(message.channel, message.recipient))
      : null,
    message.priority,
    message.status,
    details,
    message.status === "failed" ? details : null,
    message.requestedAt.toISOString(),
    new Date().toISOString(),
  ];
}

/**
 * An in-app message to its own user keeps its recipient once, in user_id, which the row
 * holds in clear anyway: sealing it again hid nothing and took 5% of the worker in an in-app
 * campaign, and its keyed hash cost an HMAC and two entries in a random-keyed index.
 */
function recipientIsUser(message: NewMessage): boolean {
  return message.channel === "in_app" && message.recipient === message.userId;
}

/** The columns of a row that give its recipient. */
export interface StoredRecipient {
  id: string;
  channel_type: string;
  user_id: string | null;
  recipient_address: string;
}

/** The recipient of a row in clear; throws when its seal cannot be opened (a key no longer configured, a changed value). */
function recipientOfRow(cipher: RecipientCipher, row: StoredRecipient): string {
  if (row.channel_type === "in_app" && row.recipient_address === "") return row.user_id ?? "";
  return cipher.open(row.recipient_address, row.id);
}

/**
 * The recipient of a row in clear, or null when its seal cannot be opened: one such row must
 * not make the others unreadable.
 */
export function openedRecipient(cipher: RecipientCipher, row: StoredRecipient): string | null {
  try {
    return recipientOfRow(cipher, row);
  } catch {
    return null;
  }
}

/** The columns messageRow fills, with their types for a statement that takes them as arrays. */
export const MESSAGE_COLUMNS = [
  ["id", "uuid"],
  ["request_id", "text"],
  ["correlation_id", "text"],
  ["user_id", "text"],
  ["template_id", "uuid"],
  ["template_version", "int"],
  ["campaign_id", "uuid"],
  ["campaign_variant", "text"],
  ["channel_type", "text"],
  ["recipient_address", "text"],
  ["recipient_hash", "text"],
  ["priority", "text"],
  ["status", "text"],
  ["status_details", "text"],
  ["last_error", "text"],
  ["requested_at", "timestamptz"],
  ["updated_at", "timestamptz"],
] as const;

const ROW_PLACEHOLDERS = `(${MESSAGE_COLUMNS.map(() => "?").join(", ")})`;

/** The form an address is looked up by: addresses ignore case; phones and tokens are exact. */
export function lookupForm(channel: Channel, recipient: string): string {
  return channel === "email" ? recipient.trim().toLowerCase() : recipient;
}

/**
 * Status changes, at most one per message, and their events as one statement on its own:
 * the UPDATE applies what may follow each row's status, and only the events of the changes
 * it applied are packed into the outbox (one row per topic), in their order. Undefined when
 * a message has several changes, which must go in turns (`record`).
 */
export async function recordChangesAtOnce(
  em: EntityManager,
  changes: StatusChange[],
  events: OutboxEvent[],
): Promise<{ applied: StatusChange[]; committed: CommittedEvents[] } | undefined> {
  if (new Set(changes.map((change) => change.messageId)).size !== changes.length) return undefined;
  const rows = await boundQuery<{ ord: number; topic: string | null; outbox_id: string | null }>(
    em,
    `WITH c AS (
       SELECT * FROM unnest(?::uuid[], ?::text[], ?::timestamptz[], ?::text[], ?::text[], ?::text[], ?::int[], ?::text[], ?::bytea[])
         AS c (id, status, at, provider, details, provider_message_id, ord, topic, packed)
     ), applied AS (
       UPDATE notification_message_log AS log SET ${APPLY_CHANGE}
         FROM c WHERE log.id = c.id AND log.status = ANY ${PRECEDING_STATUSES}
       RETURNING c.ord, c.topic, c.packed
     ), queued AS (
       INSERT INTO notification_outbox (topic, events, event_count)
       SELECT topic, string_agg(packed, ''::bytea ORDER BY ord), count(*) FROM applied GROUP BY topic
       RETURNING id, topic
     )
     SELECT applied.ord, queued.topic, queued.id AS outbox_id
       FROM applied LEFT JOIN queued USING (topic) ORDER BY applied.ord`,
    [
      changes.map((change) => change.messageId),
      changes.map((change) => change.status),
      changes.map((change) => change.at.toISOString()),
      changes.map((change) => change.provider ?? null),
      changes.map((change) => change.details ?? null),
      changes.map((change) => change.providerMessageId ?? null),
      changes.map((_, index) => index),
      events.map((event) => event.topic),
      // Packed one by one: the packed form of several events is theirs one after another.
      events.map((event) => packEvents([event])),
    ],
  );
  const byRow = new Map<string, CommittedEvents>();
  for (const row of rows) {
    const id = String(row.outbox_id);
    const committed = byRow.get(id) ?? { id, events: [] };
    committed.events.push(events[row.ord] as OutboxEvent);
    byRow.set(id, committed);
  }
  return { applied: rows.map((row) => changes[row.ord] as StatusChange), committed: [...byRow.values()] };
}

/** The changes in turns, each turn with at most one change per message, in their order. */
function rounds(changes: StatusChange[]): StatusChange[][] {
  const turns: StatusChange[][] = [];
  const seen = new Map<string, number>();
  for (const change of changes) {
    const turn = seen.get(change.messageId) ?? 0;
    seen.set(change.messageId, turn + 1);
    const changesOfTurn = turns[turn] ?? [];
    changesOfTurn.push(change);
    turns[turn] = changesOfTurn;
  }
  return turns;
}
