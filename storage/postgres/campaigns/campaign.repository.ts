import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { type Caller, machineCaller } from "../../../core/caller.ts";
import type {
  Campaign,
  CampaignCheckpoint,
  CampaignFilter,
  CampaignPage,
  CampaignRunOutcome,
  CampaignRunStep,
  CampaignRuns,
  CampaignStore,
  CampaignWrite,
} from "../../../core/campaigns/index.ts";
import type { CommittedEvents } from "../../../core/sending/index.ts";
import { recordAudit } from "../audit.ts";
import { boundQuery } from "../bound-sql.ts";
import { cursorOf, pageTokenOf } from "../keyset-cursor.ts";
import { PostgresOutbox } from "../sending/outbox.repository.ts";
import {
  type CampaignRow,
  type CheckpointRow,
  campaignOf,
  checkpointOfRow,
  PLACEHOLDERS,
  paramsOf,
  SELECTED,
  WRITTEN,
} from "./campaign-rows.ts";

// Who completes a campaign whose audience ran out: the service itself.
const SYSTEM_CALLER = machineCaller("system");
// How long a campaign whose page failed waits before a runner tries it again.
const FAILED_PAGE_RETRY_MS = 5_000;

/**
 * CampaignStore on PostgreSQL: each write one transaction with its audit record and its events
 * in the outbox. What a write enqueued is handed to `committed` once it committed, so this
 * process publishes it at once (the relay publishes what that misses).
 */
export class CampaignRepository implements CampaignStore, CampaignRuns {
  constructor(
    private readonly orm: MikroORM,
    private readonly committed: (rows: CommittedEvents[]) => void,
  ) {}

  private em(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }

  create(write: CampaignWrite, caller: Caller): Promise<Campaign> {
    return this.transaction(async (em, outbox) => {
      const [row] = await boundQuery<CampaignRow>(
        em,
        `INSERT INTO notification_campaigns (${WRITTEN.join(", ")}) VALUES (${PLACEHOLDERS.join(", ")})
         RETURNING ${SELECTED}`,
        paramsOf(write.campaign),
      );
      if (!row) throw new Error(`campaign ${write.campaign.id} was not inserted`);
      return this.recorded(em, outbox, caller, write, undefined, campaignOf(row));
    });
  }

  async get(id: string): Promise<Campaign | undefined> {
    const [row] = await boundQuery<CampaignRow>(
      this.em(),
      `SELECT ${SELECTED} FROM notification_campaigns WHERE id = ?`,
      [id],
    );
    return row ? campaignOf(row) : undefined;
  }

  async list(filter: CampaignFilter): Promise<CampaignPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (condition: string, ...values: unknown[]) => {
      where.push(condition);
      params.push(...values);
    };
    if (filter.status) add("status = ?", filter.status);
    if (filter.createdBy) add("created_by_subject = ?", filter.createdBy);
    if (filter.nameContains) add("name ILIKE ?", `%${escapeLike(filter.nameContains)}%`);
    if (filter.scheduledFrom) add("scheduled_at >= ?", filter.scheduledFrom.toISOString());
    if (filter.scheduledTo) add("scheduled_at < ?", filter.scheduledTo.toISOString());
    if (filter.pageToken) {
      const after = cursorOf(filter.pageToken);
      add(
        "(created_at, id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)",
        after.us,
        after.id,
      );
    }
    const rows = await boundQuery<CampaignRow>(
      this.em(),
      `SELECT ${SELECTED} FROM notification_campaigns ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...params, filter.pageSize + 1],
    );
    const page = rows.slice(0, filter.pageSize);
    const last = page.at(-1);
    return {
      campaigns: page.map(campaignOf),
      nextPageToken:
        rows.length > filter.pageSize && last ? pageTokenOf({ us: last.created_us, id: last.id }) : "",
    };
  }

  async change(
    id: string,
    caller: Caller,
    decide: (current: Campaign | undefined) => CampaignWrite,
  ): Promise<Campaign> {
    return this.transaction(async (em, outbox) => {
      const [row] = await boundQuery<CampaignRow>(
        em,
        `SELECT ${SELECTED} FROM notification_campaigns WHERE id = ? FOR UPDATE`,
        [id],
      );
      const current = row ? campaignOf(row) : undefined;
      return this.updated(em, outbox, caller, decide(current), current);
    });
  }

  takeDue(
    now: Date,
    limit: number,
    caller: Caller,
    decide: (due: Campaign) => CampaignWrite,
  ): Promise<number> {
    return this.transaction(async (em, outbox) => {
      // The spec's partial index on scheduled_at holds exactly the scheduled campaigns.
      const due = await boundQuery<CampaignRow>(
        em,
        `SELECT ${SELECTED} FROM notification_campaigns
          WHERE status = 'scheduled' AND scheduled_at <= ?
          ORDER BY scheduled_at LIMIT ? FOR UPDATE SKIP LOCKED`,
        [now.toISOString(), limit],
      );
      for (const row of due) {
        const campaign = campaignOf(row);
        await this.updated(em, outbox, caller, decide(campaign), campaign);
      }
      return due.length;
    });
  }

  async runActive(
    work: (campaign: Campaign, checkpoint: CampaignCheckpoint) => Promise<CampaignRunStep>,
  ): Promise<CampaignRunOutcome | undefined> {
    return this.transaction(async (em, outbox) => {
      // The one waiting longest first, so that the active campaigns take turns.
      const [row] = await boundQuery<CampaignRow>(
        em,
        `SELECT ${SELECTED} FROM notification_campaigns
          WHERE status = 'active' AND (run_after IS NULL OR run_after <= now())
          ORDER BY run_after NULLS FIRST LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [],
      );
      if (!row) return undefined;
      const campaign = campaignOf(row);
      let step: CampaignRunStep;
      try {
        step = await work(campaign, checkpointOfRow(row));
      } catch (error) {
        // Its checkpoint stays; it waits, and the other campaigns go on meanwhile.
        await boundQuery(
          em,
          `UPDATE notification_campaigns SET run_after = now() + ?::int * interval '1 millisecond' WHERE id = ?`,
          [FAILED_PAGE_RETRY_MS, campaign.id],
        );
        return { campaignId: campaign.id, failure: error };
      }
      if (step.write) await this.updated(em, outbox, SYSTEM_CALLER, step.write, campaign);
      const { checkpoint } = step;
      await boundQuery(
        em,
        `UPDATE notification_campaigns
            SET audience_cursor = ?, audience_submitted = ?, audience_held_out = ?, run_phase = ?, audience_size = ?,
                checkpointed_at = ?, run_after = coalesce(?::timestamptz, now()),
                stats_summary = jsonb_set(coalesce(stats_summary, '{"sent":0,"delivered":0,"opened":0}'::jsonb),
                                          '{sent}', to_jsonb(?::bigint))
          WHERE id = ?`,
        [
          checkpoint.cursor,
          checkpoint.submitted,
          checkpoint.heldOut,
          checkpoint.phase,
          checkpoint.audienceSize,
          checkpoint.at?.toISOString() ?? null,
          step.resumeAt?.toISOString() ?? null,
          checkpoint.submitted,
          campaign.id,
        ],
      );
      return { campaignId: campaign.id };
    });
  }

  async checkpointOf(id: string): Promise<CampaignCheckpoint | undefined> {
    const [row] = await boundQuery<CheckpointRow>(
      this.em(),
      `SELECT audience_cursor, audience_submitted, audience_held_out, run_phase, audience_size, checkpointed_at
         FROM notification_campaigns WHERE id = ?`,
      [id],
    );
    return row ? checkpointOfRow(row) : undefined;
  }

  /** Updates the campaign's row to what `write` says, then records it. */
  private async updated(
    em: EntityManager,
    outbox: PostgresOutbox,
    caller: Caller,
    write: CampaignWrite,
    before: Campaign | undefined,
  ): Promise<Campaign> {
    const [row] = await boundQuery<CampaignRow>(
      em,
      `UPDATE notification_campaigns SET (${WRITTEN.join(", ")}) = (${PLACEHOLDERS.join(", ")})
        WHERE id = ? RETURNING ${SELECTED}`,
      [...paramsOf(write.campaign), write.campaign.id],
    );
    if (!row) throw new Error(`the write decided on missing campaign ${write.campaign.id}`);
    return this.recorded(em, outbox, caller, write, before, campaignOf(row));
  }

  /** The audit record and the events of a write, in its transaction. */
  private async recorded(
    em: EntityManager,
    outbox: PostgresOutbox,
    caller: Caller,
    write: CampaignWrite,
    before: Campaign | undefined,
    after: Campaign,
  ): Promise<Campaign> {
    recordAudit(em, {
      caller,
      action: write.action,
      resourceType: "campaign",
      resourceId: after.id,
      ...(before ? { before } : {}),
      after,
    });
    await outbox.enqueue(write.events);
    return after;
  }

  /** Runs `work` in one transaction with the outbox of its events, told to `committed` after the commit. */
  private async transaction<T>(work: (em: EntityManager, outbox: PostgresOutbox) => Promise<T>): Promise<T> {
    let outbox: PostgresOutbox | undefined;
    const result = await this.em().transactional((em) => {
      outbox = new PostgresOutbox(em as EntityManager);
      return work(em as EntityManager, outbox);
    });
    if (outbox && outbox.enqueued.length > 0) this.committed(outbox.enqueued);
    return result;
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
