import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type {
  ChangedInboxMessage,
  InboxChange,
  InboxFilter,
  InboxMessage,
  InboxStore,
  NewInboxMessage,
} from "../../../core/inbox/index.ts";
import { boundQuery } from "../bound-sql.ts";

interface InboxRow {
  user_id: string;
  seq: string;
  message_id: string;
  notification_type: string;
  title: string;
  body: string;
  created_at: Date;
  delivered_at: Date | null;
  read_at: Date | null;
  archived_at: Date | null;
}

const COLUMNS =
  "user_id, seq, message_id, notification_type, title, body, created_at, delivered_at, read_at, archived_at";

const FILTERS: Record<InboxFilter, string> = {
  all: "archived_at IS NULL",
  unread: "read_at IS NULL AND archived_at IS NULL",
  read: "read_at IS NOT NULL AND archived_at IS NULL",
  archived: "archived_at IS NOT NULL",
};

// Each change touches only the messages it changes, so that what it answers is what changed.
const CHANGES: Record<InboxChange, { set: string; unless: string }> = {
  read: { set: "read_at = now()", unless: "read_at IS NULL" },
  unread: { set: "read_at = NULL", unless: "read_at IS NOT NULL" },
  archived: { set: "archived_at = now()", unless: "archived_at IS NULL" },
};

const UNIQUE_VIOLATION = "23505";

/** InboxStore on PostgreSQL (migration 0013). */
export class PostgresInboxStore implements InboxStore {
  constructor(private readonly orm: MikroORM) {}

  async append(message: NewInboxMessage): Promise<InboxMessage> {
    // One statement: the head row's lock is held until it commits, so a user's seqs commit in
    // their order; a message stored before fails the whole statement, and the head stays.
    try {
      const [row] = await this.query<InboxRow>(
        `WITH head AS (
           INSERT INTO notification_inbox_heads (user_id, last_seq) VALUES (?, 1)
           ON CONFLICT (user_id) DO UPDATE SET last_seq = notification_inbox_heads.last_seq + 1
           RETURNING last_seq)
         INSERT INTO notification_inbox (user_id, seq, message_id, notification_type, title, body)
         SELECT ?, last_seq, ?, ?, ?, ? FROM head
         RETURNING ${COLUMNS}`,
        [
          message.userId,
          message.userId,
          message.messageId,
          message.notificationType,
          message.title,
          message.body,
        ],
      );
      return messageOf(row as InboxRow);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const [row] = await this.query<InboxRow>(
        `SELECT ${COLUMNS} FROM notification_inbox WHERE message_id = ?`,
        [message.messageId],
      );
      if (!row) throw error;
      return messageOf(row);
    }
  }

  async after(userId: string, seq: number, limit: number): Promise<InboxMessage[]> {
    const rows = await this.query<InboxRow>(
      `SELECT ${COLUMNS} FROM notification_inbox WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      [userId, seq, limit],
    );
    return rows.map(messageOf);
  }

  async list(
    userId: string,
    filter: InboxFilter,
    page: { beforeSeq?: number; limit: number },
  ): Promise<InboxMessage[]> {
    const rows = await this.query<InboxRow>(
      `SELECT ${COLUMNS} FROM notification_inbox
        WHERE user_id = ? AND ${FILTERS[filter]} AND seq < ?
        ORDER BY seq DESC LIMIT ?`,
      [userId, page.beforeSeq ?? Number.MAX_SAFE_INTEGER, page.limit],
    );
    return rows.map(messageOf);
  }

  async counts(userId: string): Promise<{ unread: number; headSeq: number }> {
    const [row] = await this.query<{ unread: number; head_seq: string | null }>(
      `SELECT (SELECT count(*)::int FROM notification_inbox
                WHERE user_id = ? AND read_at IS NULL AND archived_at IS NULL) AS unread,
              (SELECT last_seq FROM notification_inbox_heads WHERE user_id = ?) AS head_seq`,
      [userId, userId],
    );
    return { unread: row?.unread ?? 0, headSeq: Number(row?.head_seq ?? 0) };
  }

  async mark(
    userId: string,
    seqs: readonly number[] | "all",
    change: InboxChange,
  ): Promise<ChangedInboxMessage[]> {
    const { set, unless } = CHANGES[change];
    const which = seqs === "all" ? "archived_at IS NULL" : "seq = ANY(?::bigint[])";
    const rows = await this.query<{ seq: string; message_id: string }>(
      `UPDATE notification_inbox SET ${set}
        WHERE user_id = ? AND ${which} AND ${unless}
        RETURNING seq, message_id`,
      seqs === "all" ? [userId] : [userId, seqs],
    );
    return changedOf(rows);
  }

  async acknowledge(userId: string, upToSeq: number): Promise<ChangedInboxMessage[]> {
    const rows = await this.query<{ seq: string; message_id: string }>(
      `UPDATE notification_inbox SET delivered_at = now()
        WHERE user_id = ? AND seq <= ? AND delivered_at IS NULL
        RETURNING seq, message_id`,
      [userId, upToSeq],
    );
    return changedOf(rows);
  }

  private query<Row>(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return boundQuery<Row>(this.orm.em.fork() as EntityManager, sql, params);
  }
}

function messageOf(row: InboxRow): InboxMessage {
  return {
    userId: row.user_id,
    seq: Number(row.seq),
    messageId: row.message_id,
    notificationType: row.notification_type,
    title: row.title,
    body: row.body,
    createdAt: new Date(row.created_at),
    ...(row.delivered_at ? { deliveredAt: new Date(row.delivered_at) } : {}),
    ...(row.read_at ? { readAt: new Date(row.read_at) } : {}),
    ...(row.archived_at ? { archivedAt: new Date(row.archived_at) } : {}),
  };
}

function changedOf(rows: { seq: string; message_id: string }[]): ChangedInboxMessage[] {
  return rows
    .map((row) => ({ seq: Number(row.seq), messageId: row.message_id }))
    .sort((a, b) => a.seq - b.seq);
}

function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { code?: unknown }).code === UNIQUE_VIOLATION
  );
}
