import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type {
  CommittedEvents,
  FreshDeliveries,
  OutboxEvent,
  SendTransaction,
  StatusChange,
  UnitOfWork,
} from "../../../core/sending/index.ts";
import { PostgresDeliveryClaims } from "./delivery-claims.repository.ts";
import { writeFreshDeliveries } from "./fresh-deliveries.ts";
import { PostgresMessageLog, recordChangesAtOnce } from "./message-log.repository.ts";
import { PostgresOutbox } from "./outbox.repository.ts";
import type { RecipientCipher } from "./recipient-cipher.ts";
import { PostgresSchedule } from "./schedule.repository.ts";

/** UnitOfWork as one PostgreSQL transaction, every store of the step bound to it. */
export class PostgresUnitOfWork implements UnitOfWork {
  private readonly listeners: ((committed: CommittedEvents[]) => void)[] = [];

  constructor(
    private readonly orm: MikroORM,
    private readonly cipher: RecipientCipher,
  ) {}

  async run<T>(work: (tx: SendTransaction) => Promise<T>): Promise<T> {
    let outbox: PostgresOutbox | undefined;
    const result = await this.orm.em.fork().transactional((em) => {
      outbox = new PostgresOutbox(em as EntityManager);
      return work({
        claims: new PostgresDeliveryClaims(em as EntityManager),
        messages: new PostgresMessageLog(em as EntityManager, this.cipher),
        schedule: new PostgresSchedule(em as EntityManager, this.cipher),
        outbox,
      });
    });
    this.tell(outbox?.enqueued ?? []);
    return result;
  }

  async recordFresh(fresh: FreshDeliveries): Promise<boolean> {
    const committed = await writeFreshDeliveries(this.orm.em.fork() as EntityManager, this.cipher, fresh);
    if (!committed) return false;
    this.tell(committed);
    return true;
  }

  read<T>(work: (stores: Pick<SendTransaction, "messages">) => Promise<T>): Promise<T> {
    return work({ messages: new PostgresMessageLog(this.orm.em.fork() as EntityManager, this.cipher) });
  }

  async recordChanges(changes: StatusChange[], events: OutboxEvent[]): Promise<StatusChange[]> {
    const atOnce = await recordChangesAtOnce(this.orm.em.fork() as EntityManager, changes, events);
    if (atOnce) {
      this.tell(atOnce.committed);
      return atOnce.applied;
    }
    return this.run(async (tx) => {
      const applied = await tx.messages.record(changes);
      const eventOf = new Map(changes.map((change, index) => [change, events[index] as OutboxEvent]));
      await tx.outbox.enqueue(applied.map((change) => eventOf.get(change) as OutboxEvent));
      return applied;
    });
  }

  afterCommit(listener: (committed: CommittedEvents[]) => void): void {
    this.listeners.push(listener);
  }

  private tell(committed: CommittedEvents[]): void {
    if (committed.length > 0) for (const listener of this.listeners) listener(committed);
  }
}
