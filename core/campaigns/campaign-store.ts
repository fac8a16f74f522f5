import type { Caller } from "../caller.ts";
import type { OutboxEvent } from "../sending/index.ts";
import type { Campaign, CampaignFilter, CampaignPage, CampaignRunPhase } from "./campaign.ts";

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
  /** Members the hold-out kept from any message so far. */
  heldOut: number;
  /** Where the run is; the audience is read once in `all`, twice with a winner rollout (sample, then rollout). */
  phase: CampaignRunPhase;
  /** The audience's size when its source knows it. */
  audienceSize: number | null;
  /** When the last page was checkpointed; null before the first. */
  at: Date | null;
}

/** What one page of a run leaves: the new checkpoint, and a change of the campaign it made. */
export interface CampaignRunStep {
  checkpoint: CampaignCheckpoint;
  /** The campaign's completion, or its winner's decision; written in the same transaction as the checkpoint. */
  write?: CampaignWrite;
  /** Not taken again before this (the winner rollout's wait); absent: in turn with the others. */
  resumeAt?: Date;
}

/** How a campaign's messages of one variant did so far. */
export interface VariantOutcome {
  /** "A", "B", …; "" for messages of no variant. */
  variant: string;
  /** Messages that reached a provider or the inbox. */
  sent: number;
  /** Of those, opened (clicked) by their reader, machines not counted. */
  opened: number;
  clicked: number;
}

/** What the winner rollout reads of a campaign's messages. */
export interface CampaignOutcomes {
  byVariant(campaignId: string): Promise<VariantOutcome[]>;
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
