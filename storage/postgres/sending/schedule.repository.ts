import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { DueSends, Schedule, SendRequest } from "../../../core/sending/index.ts";
import type { RecipientCipher } from "./recipient-cipher.ts";

/** The schedule inside one transaction of the unit of work. */
export class PostgresSchedule implements Schedule {
  constructor(
    private readonly em: EntityManager,
    private readonly cipher: RecipientCipher,
  ) {}

  async add(request: SendRequest & { sendAt: Date }): Promise<boolean> {
    const added = await this.em.execute<{ request_id: string }[]>(
      `INSERT INTO notification_scheduled_sends (request_id, due_at, sealed_request) VALUES (?, ?, ?)
       ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
      [request.requestId, request.sendAt.toISOString(), sealRequest(this.cipher, request)],
    );
    return added.length > 0;
  }

  async cancel(requestId: string): Promise<boolean> {
    const cancelled = await this.em.execute<{ request_id: string }[]>(
      `UPDATE notification_scheduled_sends SET state = 'cancelled', ended_at = now()
        WHERE request_id = ? AND state = 'waiting' RETURNING request_id`,
      [requestId],
    );
    return cancelled.length > 0;
  }
}

/** DueSends over the table: a batch is locked while it is released, and skipped by other workers. */
export class PostgresDueSends implements DueSends {
  constructor(
    private readonly orm: MikroORM,
    private readonly cipher: RecipientCipher,
  ) {}

  releaseDue(now: Date, limit: number, release: (requests: SendRequest[]) => Promise<void>): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const sql = em as EntityManager;
      const due = await sql.execute<{ request_id: string; sealed_request: string }[]>(
        `SELECT request_id, sealed_request FROM notification_scheduled_sends
          WHERE state = 'waiting' AND due_at <= ? ORDER BY due_at LIMIT ? FOR UPDATE SKIP LOCKED`,
        [now.toISOString(), limit],
      );
      if (due.length === 0) return 0;
      await release(due.map((row) => openRequest(this.cipher, row.request_id, row.sealed_request)));
      await sql.execute(
        "UPDATE notification_scheduled_sends SET state = 'released', ended_at = now() WHERE request_id = ANY(?::text[])",
        [`{${due.map((row) => JSON.stringify(row.request_id)).join(",")}}`],
      );
      return due.length;
    });
  }
}

// The request holds addresses, tokens and variables: sealed whole, its id as the associated data.
function sealRequest(cipher: RecipientCipher, request: SendRequest): string {
  return cipher.seal(JSON.stringify(request), `scheduled:${request.requestId}`);
}

function openRequest(cipher: RecipientCipher, requestId: string, sealed: string): SendRequest {
  const parsed = JSON.parse(cipher.open(sealed, `scheduled:${requestId}`)) as SendRequest & {
    sendAt?: string;
    receivedAt: string;
  };
  return {
    ...parsed,
    receivedAt: new Date(parsed.receivedAt),
    ...(parsed.sendAt ? { sendAt: new Date(parsed.sendAt) } : {}),
  };
}
