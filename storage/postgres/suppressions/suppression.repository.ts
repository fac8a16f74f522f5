import { randomUUID } from "node:crypto";
import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Caller } from "../../../core/caller.ts";
import type { Channel } from "../../../core/channels.ts";
import type {
  CheckedAddress,
  NewSuppression,
  Suppression,
  SuppressionQuery,
  SuppressionReason,
  SuppressionStore,
} from "../../../core/suppressions/index.ts";
import { recordAudit } from "../audit.ts";
import { boundQuery } from "../bound-sql.ts";
import { cursorOf, pageTokenOf } from "../keyset-cursor.ts";
import { lookupForm } from "../sending/message-log.repository.ts";
import type { RecipientCipher } from "../sending/recipient-cipher.ts";

interface SuppressionRow {
  id: string;
  channel_type: Channel;
  recipient_address: string;
  reason: SuppressionReason;
  details: string | null;
  source: string;
  message_id: string | null;
  created_at: string | Date;
  created_us: string;
}

const COLUMNS = `id, channel_type, recipient_address, reason, details, source, message_id, created_at,
  (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us`;

/**
 * SuppressionStore on PostgreSQL: addresses sealed as in the message log, found by the same
 * keyed hash. Every send looks here, and the list is nearly always empty or small: that it is
 * empty is remembered for a second, so an empty list costs no query.
 */
export class PostgresSuppressionStore implements SuppressionStore {
  private emptyUntil = 0;

  constructor(
    private readonly orm: MikroORM,
    private readonly cipher: RecipientCipher,
    private readonly emptyForMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  async find(addresses: CheckedAddress[]): Promise<Map<number, SuppressionReason>> {
    const found = new Map<number, SuppressionReason>();
    if (addresses.length === 0 || this.now() < this.emptyUntil) return found;
    const hashes = addresses.map((address) => this.hashOf(address.channel, address.recipient));
    const [answer] = await boundQuery<{
      present: boolean;
      found: { channel_type: Channel; recipient_hash: string; reason: SuppressionReason }[] | null;
    }>(
      this.orm.em.fork() as EntityManager,
      `SELECT EXISTS (SELECT 1 FROM notification_suppressions) AS present,
         (SELECT json_agg(json_build_object('channel_type', s.channel_type, 'recipient_hash', s.recipient_hash,
                 'reason', s.reason))
            FROM notification_suppressions s
            JOIN unnest(?::text[], ?::text[]) AS a (channel, hash)
              ON s.channel_type = a.channel AND s.recipient_hash = a.hash) AS found`,
      [addresses.map((address) => address.channel), hashes],
    );
    if (!answer?.present) this.emptyUntil = this.now() + this.emptyForMs;
    const rows = answer?.found ?? [];
    const reasons = new Map(rows.map((row) => [`${row.channel_type} ${row.recipient_hash}`, row.reason]));
    for (const [index, address] of addresses.entries()) {
      const reason = reasons.get(`${address.channel} ${hashes[index]}`);
      if (reason) found.set(index, reason);
    }
    return found;
  }

  add(entries: NewSuppression[], caller: Caller): Promise<number> {
    if (entries.length === 0) return Promise.resolve(0);
    return this.orm.em.fork().transactional(async (em) => {
      let added = 0;
      for (const entry of entries) {
        const id = randomUUID();
        const [row] = await boundQuery<SuppressionRow>(
          em as EntityManager,
          `INSERT INTO notification_suppressions
             (id, channel_type, recipient_hash, recipient_address, reason, details, source, message_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (channel_type, recipient_hash) DO NOTHING
           RETURNING ${COLUMNS}`,
          [
            id,
            entry.channel,
            this.hashOf(entry.channel, entry.recipient),
            this.cipher.seal(entry.recipient, id),
            entry.reason,
            entry.details ?? null,
            entry.source,
            entry.messageId ?? null,
          ],
        );
        if (!row) continue;
        added++;
        recordAudit(em as EntityManager, {
          caller,
          action: "suppression.add",
          resourceType: "suppression",
          resourceId: id,
          after: auditView(row),
        });
      }
      this.emptyUntil = 0;
      return added;
    });
  }

  lift(id: string, caller: Caller): Promise<Suppression | undefined> {
    return this.orm.em.fork().transactional(async (em) => {
      const [row] = await boundQuery<SuppressionRow>(
        em as EntityManager,
        `DELETE FROM notification_suppressions WHERE id = ?::uuid RETURNING ${COLUMNS}`,
        [id],
      );
      if (!row) return undefined;
      recordAudit(em as EntityManager, {
        caller,
        action: "suppression.lift",
        resourceType: "suppression",
        resourceId: id,
        before: auditView(row),
      });
      return this.suppressionOf(row);
    });
  }

  async list(query: SuppressionQuery): Promise<{ suppressions: Suppression[]; nextCursor?: string }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.channel) {
      where.push("channel_type = ?");
      params.push(query.channel);
    }
    if (query.reason) {
      where.push("reason = ?");
      params.push(query.reason);
    }
    if (query.recipient) {
      where.push("recipient_hash = ANY(?::text[])");
      // Without a channel the address is looked up in the form each channel keeps it.
      params.push([
        ...new Set([this.cipher.lookupHash(query.recipient), this.hashOf("email", query.recipient)]),
      ]);
    }
    if (query.cursor) {
      const after = cursorOf(query.cursor);
      where.push("(created_at, id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)");
      params.push(after.us, after.id);
    }
    const rows = await boundQuery<SuppressionRow>(
      this.orm.em.fork() as EntityManager,
      `SELECT ${COLUMNS} FROM notification_suppressions ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...params, query.limit + 1],
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      suppressions: page.map((row) => this.suppressionOf(row)),
      ...(rows.length > query.limit && last
        ? { nextCursor: pageTokenOf({ us: last.created_us, id: last.id }) }
        : {}),
    };
  }

  /** The address, or empty when it was sealed with a key no longer configured: the entry still counts. */
  private opened(row: SuppressionRow): string {
    try {
      return this.cipher.open(row.recipient_address, row.id);
    } catch {
      return "";
    }
  }

  private hashOf(channel: Channel, recipient: string): string {
    return this.cipher.lookupHash(lookupForm(channel, recipient));
  }

  private suppressionOf(row: SuppressionRow): Suppression {
    return {
      id: row.id,
      channel: row.channel_type,
      recipient: this.opened(row),
      reason: row.reason,
      ...(row.details ? { details: row.details } : {}),
      source: row.source,
      ...(row.message_id ? { messageId: row.message_id } : {}),
      createdAt: new Date(row.created_at),
    };
  }
}

/** What the audit log keeps of an entry: never the address, sealed or not. */
function auditView(row: SuppressionRow) {
  return { channel: row.channel_type, reason: row.reason, source: row.source, messageId: row.message_id };
}
