import type { MikroORM } from "@mikro-orm/core";
import type { SendProgress, SendProgressQueries } from "../../../core/sending/index.ts";

/** SendProgressQueries over the schedule and the message log (its request_id index). */
export class PostgresSendProgress implements SendProgressQueries {
  constructor(private readonly orm: MikroORM) {}

  async progress(requestId: string): Promise<SendProgress | undefined> {
    const connection = this.orm.em.fork().getConnection();
    const [kept] = await connection.execute<{ state: SendProgress["state"]; due_at: Date | string }[]>(
      "SELECT state, due_at FROM notification_scheduled_sends WHERE request_id = ?",
      [requestId],
    );
    const counts = await connection.execute<{ status: string; count: string }[]>(
      "SELECT status, count(*) AS count FROM notification_message_log WHERE request_id = ? GROUP BY status ORDER BY status",
      [requestId],
    );
    if (!kept && counts.length === 0) return undefined;
    const byStatus = Object.fromEntries(
      counts.map((row: { status: string; count: string }) => [row.status, Number(row.count)]),
    );
    return {
      requestId,
      state: kept?.state ?? "direct",
      messages: Object.values(byStatus).reduce((sum, count) => sum + count, 0),
      byStatus,
      ...(kept ? { dueAt: new Date(kept.due_at) } : {}),
    };
  }
}
