import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { CommittedEvent, Outbox, OutboxEvent, OutboxFeed } from "../../../core/sending/index.ts";
import { boundQuery } from "../bound-sql.ts";

// Rows per INSERT: 4 parameters each.
const ENQUEUE_BATCH = 5_000;
// The advisory lock one publisher holds for the length of a batch's transaction.
const FEED_LOCK = 0x6e6f7466; // "notf"

/** The outbox inside one transaction of the unit of work. */
export class PostgresOutbox implements Outbox {
  /** What this transaction enqueued, with the ids its rows got: told after the commit. */
  readonly enqueued: CommittedEvent[] = [];

  constructor(private readonly em: EntityManager) {}

  async enqueue(events: OutboxEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += ENQUEUE_BATCH) {
      const batch = events.slice(start, start + ENQUEUE_BATCH);
      // Rows come back in the order of VALUES for a plain INSERT … RETURNING.
      const rows = await boundQuery<{ id: string }>(
        this.em,
        `INSERT INTO notification_outbox (topic, event_key, event_value, headers) VALUES ${batch
          .map(() => "(?, ?, ?, ?::jsonb)")
          .join(", ")} RETURNING id`,
        batch.flatMap((event) => [
          event.topic,
          event.key,
          Buffer.from(event.value),
          JSON.stringify(event.headers),
        ]),
      );
      rows.forEach((row, index) => {
        this.enqueued.push({ id: String(row.id), event: batch[index] as OutboxEvent });
      });
    }
  }
}

interface OutboxRow {
  id: string;
  topic: string;
  event_key: string;
  event_value: Buffer;
  headers: Record<string, string>;
}

/** OutboxFeed over the table: one transaction per batch, under an advisory lock. */
export class PostgresOutboxFeed implements OutboxFeed {
  /**
   * @param graceMs how long an event is left to the process that committed it. enqueued_at is
   * its transaction's start, so a transaction longer than this may see its events published
   * twice (same CloudEvent ids), never lost.
   */
  constructor(
    private readonly orm: MikroORM,
    private readonly graceMs = 0,
  ) {}

  publishNext(limit: number, publish: (events: OutboxEvent[]) => Promise<void>): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const sql = em as EntityManager;
      // One publisher at a time keeps the order of the events of one key; the others find the
      // lock taken and wait for their next turn.
      const [lock] = await boundQuery<{ held: boolean }>(sql, "SELECT pg_try_advisory_xact_lock(?) AS held", [
        FEED_LOCK,
      ]);
      if (!lock?.held) return 0;
      const rows = await boundQuery<OutboxRow>(
        sql,
        `SELECT id, topic, event_key, event_value, headers FROM notification_outbox
          WHERE enqueued_at <= now() - make_interval(secs => ?) ORDER BY id LIMIT ?`,
        [this.graceMs / 1000, limit],
      );
      if (rows.length === 0) return 0;
      await publish(
        rows.map((row) => ({
          topic: row.topic,
          key: row.event_key,
          value: row.event_value,
          headers: row.headers,
        })),
      );
      // Exactly these: an event with a lower id may have committed since they were read.
      await boundQuery(sql, "DELETE FROM notification_outbox WHERE id = ANY(?::bigint[])", [
        `{${rows.map((row) => row.id).join(",")}}`,
      ]);
      return rows.length;
    });
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await boundQuery(
      this.orm.em.fork() as EntityManager,
      "DELETE FROM notification_outbox WHERE id = ANY(?::bigint[])",
      [`{${ids.join(",")}}`],
    );
  }

  /** Events waiting to be published, for the backlog metric. */
  async backlog(): Promise<number> {
    const [row] = await boundQuery<{ waiting: string }>(
      this.orm.em.fork() as EntityManager,
      "SELECT count(*) AS waiting FROM notification_outbox",
      [],
    );
    return Number(row?.waiting ?? 0);
  }
}
