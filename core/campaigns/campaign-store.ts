import type { Caller } from "../caller.ts";
import type { OutboxEvent } from "../sending/index.ts";
import type { Campaign, CampaignFilter, CampaignPage } from "./campaign.ts";

/** One write of a campaign: the campaign as it is to be, what the audit log calls it, and its events. */
export interface CampaignWrite {
  campaign: Campaign;
  /** E.g. "campaign.pause". */
  action: string;
  /** Published only if the write commits, and then surely (the transactional outbox). */
  events: OutboxEvent[];
}

/**
 * Where campaigns live. Every write is one transaction with its audit record and its events.
 * A change is decided under the campaign's lock, by the domain's `decide`, on the campaign as
 * it is then; whatever `decide` throws aborts the write.
 */
export interface CampaignStore {
  create(write: CampaignWrite, caller: Caller): Promise<Campaign>;
  get(id: string): Promise<Campaign | undefined>;
  /** Throws a validation DomainError for a page token it did not give. */
  list(filter: CampaignFilter): Promise<CampaignPage>;
  /** `decide` is given undefined when there is no such campaign. */
  change(
    id: string,
    caller: Caller,
    decide: (current: Campaign | undefined) => CampaignWrite,
  ): Promise<Campaign>;
  /**
   * Locks up to `limit` scheduled campaigns due at `now` (scheduled at or before it), skipping
   * those another process holds, and writes what `decide` makes of each, in one transaction.
   * Answers how many it took.
   */
  takeDue(
    now: Date,
    limit: number,
    caller: Caller,
    decide: (due: Campaign) => CampaignWrite,
  ): Promise<number>;
}
