import type { EntityManager } from "@mikro-orm/postgresql";
import type { DeliveryClaim, DeliveryClaims, DeliveryKey } from "../../../core/sending/index.ts";
import { boundQuery } from "../bound-sql.ts";

interface ClaimRow {
  request_id: string;
  recipient_key: string;
  channel: string;
  message_id: string;
}

/** DeliveryClaims inside one transaction of the unit of work. */
export class PostgresDeliveryClaims implements DeliveryClaims {
  constructor(private readonly em: EntityManager) {}

  async claim(keys: DeliveryKey[]): Promise<DeliveryClaim[]> {
    if (keys.length === 0) return [];
    // In one order for every transaction: two claiming overlapping keys wait for each other
    // on the first key they share instead of each holding what the other needs next.
    const distinct = [...new Map(keys.map((key) => [identityOf(key), key])).values()].sort((a, b) =>
      identityOf(a) < identityOf(b) ? -1 : 1,
    );
    const tuples = distinct.map(() => "(?, ?, ?)").join(", ");
    const params = distinct.flatMap((key) => [key.requestId, key.recipientKey, key.channel]);
    // A key another transaction inserted and has not committed makes this wait for its outcome:
    // nothing is claimed twice, and nothing is lost to a claim that rolled back.
    const inserted = await boundQuery<ClaimRow>(
      this.em,
      `INSERT INTO notification_delivery_claims (request_id, recipient_key, channel) VALUES ${tuples}
       ON CONFLICT (request_id, recipient_key, channel) DO NOTHING
       RETURNING request_id, recipient_key, channel, message_id`,
      params,
    );
    const fresh = new Set(inserted.map(rowIdentity));
    const rows =
      inserted.length === distinct.length
        ? inserted
        : await boundQuery<ClaimRow>(
            this.em,
            `SELECT request_id, recipient_key, channel, message_id FROM notification_delivery_claims
              WHERE (request_id, recipient_key, channel) IN (${tuples})`,
            params,
          );
    const messageIds = new Map(rows.map((row) => [rowIdentity(row), row.message_id]));
    return keys.map((key) => {
      const messageId = messageIds.get(identityOf(key));
      if (!messageId) throw new Error(`delivery ${identityOf(key)} has neither a new nor an earlier claim`);
      return { key, messageId, duplicate: !fresh.has(identityOf(key)) };
    });
  }
}

// NUL cannot occur in these columns, so it separates the parts unambiguously.
function identityOf(key: DeliveryKey): string {
  return `${key.requestId}\u0000${key.recipientKey}\u0000${key.channel}`;
}

function rowIdentity(row: ClaimRow): string {
  return `${row.request_id}\u0000${row.recipient_key}\u0000${row.channel}`;
}
