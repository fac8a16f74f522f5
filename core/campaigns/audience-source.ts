/** A segment as its source describes it. */
export interface SegmentSummary {
  name: string;
  /** How many users it holds; null when the source does not say ahead of reading them. */
  size: number | null;
  /** False while it cannot be sent to yet (an uploaded segment whose members are not uploaded). */
  ready: boolean;
}

/** One page of a segment's members. */
export interface AudiencePage {
  /** Lowercase UUIDs, each user once across the pages of one reading. */
  userIds: string[];
  /** Where the next page starts; empty after the last one. */
  cursor: string;
  /** Ids the source gave that are no UUIDs, left out (a source's bug, counted rather than sent to). */
  skipped: number;
}

/**
 * Where a kind of audience segment comes from (uploaded here, the Analytics Service). A
 * campaign's runner reads the members in pages from a cursor and keeps the cursor as its
 * checkpoint: reading again from a cursor gives the same pages from there on.
 */
export interface AudienceSource {
  /** The segment of that key in this source, or undefined when there is none. */
  segment(key: string): Promise<SegmentSummary | undefined>;
  /** Up to `limit` members after `cursor` ("" for the first page). */
  members(key: string, cursor: string, limit: number): Promise<AudiencePage>;
}
