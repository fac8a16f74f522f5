import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { MessageStatus } from "../../../core/sending/index.ts";
import type {
  CountedHit,
  TrackedMessage,
  TrackedMessages,
  TrackingKind,
} from "../../../core/tracking/index.ts";
import { boundQuery } from "../bound-sql.ts";

// The columns each kind of hit counts in (migration 0016), and where the reader's first is kept (0006).
const COLUMNS: Record<TrackingKind, { reader: string; machine: string; firstAt: string }> = {
  open: { reader: "opens", machine: "machine_opens", firstAt: "opened_at" },
  click: { reader: "clicks", machine: "machine_clicks", firstAt: "clicked_at" },
};

/** TrackedMessages on the message log: one statement a read, one a count. */
export class PostgresTrackedMessages implements TrackedMessages {
  constructor(private readonly orm: MikroORM) {}

  async find(messageId: string): Promise<TrackedMessage | undefined> {
    const [row] = await boundQuery<{
      status: MessageStatus;
      provider_name: string | null;
      sent_at: Date | null;
    }>(
      this.em(),
      `SELECT status, provider_name, COALESCE(sent_at, delivered_at) AS sent_at
         FROM notification_message_log WHERE id = ?::uuid`,
      [messageId],
    );
    if (!row) return undefined;
    return {
      status: row.status,
      ...(row.provider_name ? { provider: row.provider_name } : {}),
      ...(row.sent_at ? { sentAt: new Date(row.sent_at) } : {}),
    };
  }

  async count(hit: CountedHit): Promise<void> {
    const columns = COLUMNS[hit.kind];
    const counter = hit.machine ? columns.machine : columns.reader;
    // COALESCE keeps the first: a later hit, or one that arrives late, never moves it.
    const first = hit.machine ? "" : `, ${columns.firstAt} = COALESCE(${columns.firstAt}, ?::timestamptz)`;
    await boundQuery(
      this.em(),
      `UPDATE notification_message_log SET ${counter} = ${counter} + 1${first}, updated_at = now()
        WHERE id = ?::uuid`,
      hit.machine ? [hit.messageId] : [hit.at.toISOString(), hit.messageId],
    );
  }

  private em(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }
}
