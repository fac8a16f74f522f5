import type { EntityManager } from "@mikro-orm/postgresql";
import type { CommittedEvents, DeliveryClaim, FreshDeliveries } from "../../../core/sending/index.ts";
import { boundQuery } from "../bound-sql.ts";
import { MESSAGE_COLUMNS, messageRow } from "./message-log.repository.ts";
import { committedRows, outboxRowParams, outboxRows } from "./outbox.repository.ts";
import type { RecipientCipher } from "./recipient-cipher.ts";

const UNIQUE_VIOLATION = "23505";

/**
 * Fresh deliveries as one statement on its own, its own transaction: claims, message log rows
 * and outbox rows commit together or not at all, in one round trip where BEGIN, three INSERTs
 * and COMMIT took five. A delivery claimed before breaks the claims' primary key, and
 * PostgreSQL rolls the whole statement back: undefined then, and nothing was written.
 */
export async function writeFreshDeliveries(
  em: EntityManager,
  cipher: RecipientCipher,
  fresh: FreshDeliveries,
): Promise<CommittedEvents[] | undefined> {
  // In one order for every writer, as DeliveryClaims does: overlapping claims wait, never deadlock.
  const claims = [...fresh.claims].sort((a, b) => (identityOf(a) < identityOf(b) ? -1 : 1));
  const rows = fresh.messages.map((message) => messageRow(cipher, message));
  const outbox = outboxRows(fresh.events);
  const sql = `WITH claimed AS (
      INSERT INTO notification_delivery_claims (request_id, recipient_key, channel, message_id)
      SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::uuid[])
    ), logged AS (
      INSERT INTO notification_message_log (${MESSAGE_COLUMNS.map(([name]) => name).join(", ")})
      SELECT * FROM unnest(${MESSAGE_COLUMNS.map(([, type]) => `?::${type}[]`).join(", ")})
    ), queued AS (
      INSERT INTO notification_outbox (topic, events, event_count)
      ${outbox.length > 0 ? `VALUES ${outbox.map(() => "(?, ?, ?)").join(", ")}` : "SELECT NULL, NULL, NULL WHERE false"}
      RETURNING id
    )
    SELECT array(SELECT id FROM queued ORDER BY id) AS ids`;
  const params = [
    claims.map((claim) => claim.key.requestId),
    claims.map((claim) => claim.key.recipientKey),
    claims.map((claim) => claim.key.channel),
    claims.map((claim) => claim.messageId),
    ...MESSAGE_COLUMNS.map((_, column) => rows.map((row) => row[column])),
    ...outbox.flatMap(outboxRowParams),
  ];
  try {
    const [row] = await boundQuery<{ ids: string[] }>(em, sql, params);
    // Identity values rise in the order of VALUES within the statement.
    return committedRows(outbox, (row?.ids ?? []).map(String));
  } catch (error) {
    const { code, table } = error as { code?: string; table?: string };
    if (code === UNIQUE_VIOLATION && table === "notification_delivery_claims") return undefined;
    throw error;
  }
}

function identityOf(claim: DeliveryClaim): string {
  return `${claim.key.requestId}\u0000${claim.key.recipientKey}\u0000${claim.key.channel}`;
}
