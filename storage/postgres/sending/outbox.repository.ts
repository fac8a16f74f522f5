import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { CommittedEvents, Outbox, OutboxEvent, OutboxFeed } from "../../../core/sending/index.ts";
import { boundQuery } from "../bound-sql.ts";
import { packEvents, unpackEvents } from "./outbox-rows.ts";

// The advisory lock one publisher holds for the length of a batch's transaction.
const FEED_LOCK = 0x6e6f7466; // "notf"

// Rows the relay publishes: those their committing process had its grace period to publish
// (the parameter, in seconds), and those that waited for their time.
const DUE = "publish_after IS NULL AND enqueued_at <= now() - make_interval(secs => ?)";
const DUE_RETRY = "publish_after <= now()";

/** The outbox inside one transaction of the unit of work: one row per topic a call enqueues to. */
export class PostgresOutbox implements Outbox {
  /** What this transaction enqueued, with the ids its rows got: told after the commit. */
  readonly enqueued: CommittedEvents[] = [];

  constructor(private readonly em: EntityManager) {}

  async enqueue(events: OutboxEvent[]): Promise<void> {
    const now = events.filter((event) => !event.notBefore);
    const later = events.filter((event) => event.notBefore);
    if (now.length > 0) {
      const rows = outboxRows(now);
      // Rows come back in the order of VALUES for a plain INSERT … RETURNING.
      const ids = await boundQuery<{ id: string }>(
        this.em,
        `INSERT INTO notification_outbox (topic, events, event_count) VALUES ${rows.map(() => "(?, ?, ?)").join(", ")}
         RETURNING id`,
        rows.flatMap(outboxRowParams),
      );
      this.enqueued.push(
        ...committedRows(
          rows,
          ids.map((row) => String(row.id)),
        ),
      );
    }
    // Events that wait are the relay's alone: the committing process must not publish them now.
    const waiting = delayedRows(later);
    if (waiting.length > 0) {
      await boundQuery(
        this.em,
        `INSERT INTO notification_outbox (topic, events, event_count, publish_after)
         VALUES ${waiting.map(() => "(?, ?, ?, ?)").join(", ")}`,
        waiting.flatMap((row) => [
          ...outboxRowParams(row),
          ((row[0] as OutboxEvent).notBefore as Date).toISOString(),
        ]),
      );
    }
  }
}

/** The rows of the outbox that `events` make: one per topic, in the order of their first event. */
export function outboxRows(events: OutboxEvent[]): OutboxEvent[][] {
  const byTopic = new Map<string, OutboxEvent[]>();
  for (const event of events) {
    const same = byTopic.get(event.topic) ?? [];
    same.push(event);
    byTopic.set(event.topic, same);
  }
  return [...byTopic.values()];
}

/** The rows of events that wait: one per topic and time. */
function delayedRows(events: OutboxEvent[]): OutboxEvent[][] {
  const byTopicAndTime = new Map<string, OutboxEvent[]>();
  for (const event of events) {
    const key = `${event.topic} ${event.notBefore?.getTime()}`;
    const same = byTopicAndTime.get(key) ?? [];
    same.push(event);
    byTopicAndTime.set(key, same);
  }
  return [...byTopicAndTime.values()];
}

/** The parameters of one row for `(topic, events, event_count)`. */
export function outboxRowParams(row: OutboxEvent[]): unknown[] {
  return [(row[0] as OutboxEvent).topic, packEvents(row), row.length];
}

/** The rows as they committed, with the ids they got, in the same order. */
export function committedRows(rows: OutboxEvent[][], ids: string[]): CommittedEvents[] {
  return rows.map((events, index) => ({ id: ids[index] as string, events }));
}

interface OutboxRow {
  id: string;
  topic: string;
  events: Buffer;
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

  async publishNext(limit: number, publish: (events: OutboxEvent[]) => Promise<void>): Promise<number> {
    // Nearly always the committing processes published everything: one look, no transaction.
    const [due] = await boundQuery<{ waiting: boolean }>(
      this.orm.em.fork() as EntityManager,
      `SELECT EXISTS (SELECT 1 FROM notification_outbox WHERE ${DUE}) OR EXISTS (SELECT 1 FROM notification_outbox WHERE ${DUE_RETRY}) AS waiting`,
      [this.graceMs / 1000],
    );
    if (!due?.waiting) return 0;
    return this.orm.em.fork().transactional(async (em) => {
      const sql = em as EntityManager;
      // One publisher at a time keeps the order of the events of one key; the others find the
      // lock taken and wait for their next turn.
      const [lock] = await boundQuery<{ held: boolean }>(sql, "SELECT pg_try_advisory_xact_lock(?) AS held", [
        FEED_LOCK,
      ]);
      if (!lock?.held) return 0;
      // Whole rows, oldest first, up to the one that reaches `limit` events; the first at least.
      const rows = await boundQuery<OutboxRow>(
        sql,
        `WITH oldest AS (
           SELECT id, event_count FROM notification_outbox
            WHERE ${DUE} OR ${DUE_RETRY} ORDER BY id LIMIT ?
         ), counted AS (
           SELECT id, sum(event_count) OVER (ORDER BY id) - event_count AS before FROM oldest
         )
         SELECT o.id, o.topic, o.events FROM counted JOIN notification_outbox o USING (id)
          WHERE counted.before < ? ORDER BY o.id`,
        [this.graceMs / 1000, limit, limit],
      );
      if (rows.length === 0) return 0;
      const events = rows.flatMap((row) => unpackEvents(row.topic, row.events));
      await publish(events);
      // Exactly these: an event with a lower id may have committed since they were read.
      await boundQuery(sql, "DELETE FROM notification_outbox WHERE id = ANY(?::bigint[])", [
        `{${rows.map((row) => row.id).join(",")}}`,
      ]);
      return events.length;
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
      "SELECT coalesce(sum(event_count), 0) AS waiting FROM notification_outbox",
      [],
    );
    return Number(row?.waiting ?? 0);
  }
}
