import type { Caller } from "../caller.ts";
import type { CampaignStatus } from "./campaign.ts";
import type { SegmentFilter, SegmentPage, UploadedSegment } from "./segment.ts";
import type { AddMembers } from "./segment-upload.ts";

/**
 * Where uploaded segments and their members live. Every write is one transaction with its
 * audit record.
 */
export interface SegmentStore {
  create(segment: UploadedSegment, caller: Caller): Promise<UploadedSegment>;
  get(id: string): Promise<UploadedSegment | undefined>;
  /** Throws a validation DomainError for a page token it did not give. */
  list(filter: SegmentFilter): Promise<SegmentPage>;
  /**
   * Fills a segment in one transaction under its lock: `fill` is given the segment as it is
   * then (undefined when there is none) and `add`, which inserts members and answers how
   * many were new, and answers the segment as it is to be. Whatever it throws rolls back
   * every member it added. An upload of the same segment under way: CONFLICT, at once.
   */
  fill(
    id: string,
    caller: Caller,
    fill: (current: UploadedSegment | undefined, add: AddMembers) => Promise<UploadedSegment>,
  ): Promise<UploadedSegment>;
  /**
   * Deletes the segment and its members once `decide`, given it as it is under its lock, did
   * not throw. Answers what was deleted.
   */
  delete(
    id: string,
    caller: Caller,
    decide: (current: UploadedSegment | undefined) => UploadedSegment,
  ): Promise<UploadedSegment>;
  /** The campaigns whose target_segment_id is `targetSegmentId`, with their status. */
  targetedBy(targetSegmentId: string): Promise<{ id: string; status: CampaignStatus }[]>;
  /** Up to `limit` member ids of the segment after `after` ("" for the first), in id order. */
  members(id: string, after: string, limit: number): Promise<string[]>;
}
