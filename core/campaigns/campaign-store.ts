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

/** Where a campaign's run stands: what the runner keeps on the campaign after each page. */
export interface CampaignCheckpoint {
  /** Where the audience's reading resumes: the source's cursor, "" before the first page. */
  cursor: string;
  /** Members submitted to the send pipeline so far (each once, however often a page was resubmitted). */
  submitted: number;
  /** The audience's size when its source knows it. */
  audienceSize: number | null;
  /** When the last page was checkpointed; null before the first. */
  at: Date | null;
}

/** What one page of a run leaves: the new checkpoint, and the campaign's completion when the audience ran out. */
export interface CampaignRunStep {
  checkpoint: CampaignCheckpoint;
  /** Written in the same transaction as the checkpoint. */
  completion?: CampaignWrite;
}

/** The campaign a runner took, and what its `work` threw, if it did. */
export interface CampaignRunOutcome {
  campaignId: string;
  failure?: unknown;
}

/** The campaigns' side the runner works on. */
export interface CampaignRuns {
  /**
   * Locks one active campaign no other process holds (FOR UPDATE SKIP LOCKED), hands it and
   * its checkpoint to `work`, and writes the step `work` answers before the lock is let go:
   * one worker at a time works on a campaign, a pause waits for the page under way, and a
   * crash loses at most the page, resubmitted from the checkpoint. A campaign whose `work`
   * threw keeps its checkpoint and waits a while, so that it does not hold up the others.
   * Undefined when none was free.
   */
  runActive(
    work: (campaign: Campaign, checkpoint: CampaignCheckpoint) => Promise<CampaignRunStep>,
  ): Promise<CampaignRunOutcome | undefined>;
  /** The campaign's checkpoint, or undefined when there is no such campaign. */
  checkpointOf(id: string): Promise<CampaignCheckpoint | undefined>;
}
