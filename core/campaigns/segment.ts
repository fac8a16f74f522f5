/** Where an uploaded segment stands: created empty, then filled by one upload and fixed from then on. */
export type SegmentStatus = "awaiting_upload" | "ready";

/** How an upload's rows are written, by its Content-Type. */
export type UploadFormat = "csv" | "ndjson";

export type BadRowReason = "not_a_uuid" | "missing_user_id" | "malformed_json" | "malformed_csv";

/** A row of an upload that was not taken. */
export interface BadRow {
  /** Its line in the file, from 1; blank lines and the header count, so an editor finds it. */
  line: number;
  reason: BadRowReason;
  /** The reason in words, never the row's content: an upload may hold addresses by mistake. */
  detail: string;
}

/** What an upload read; rows = membersAdded + duplicates + badRows. */
export interface SegmentUploadReport {
  format: UploadFormat;
  /** Every line but blank ones and the CSV header. */
  rows: number;
  membersAdded: number;
  duplicates: number;
  badRows: number;
  /** The first of them, in line order (at most MAX_REPORTED_BAD_ROWS). */
  firstBadRows: BadRow[];
}

/** An audience uploaded to this service: a fixed list of user ids. */
export interface UploadedSegment {
  id: string;
  name: string;
  description: string;
  status: SegmentStatus;
  /** Distinct users; 0 until uploaded. */
  memberCount: number;
  uploadReport: SegmentUploadReport | null;
  /** The creator's subject: a JWT's sub or an API key's id. */
  createdBy: string;
  createdAt: Date;
  uploadedAt: Date | null;
}

/** What a marketer gives a segment; the rest is the service's. */
export interface SegmentDraft {
  name: string;
  description: string;
}

export interface SegmentFilter {
  /** A part of the name, in any case. */
  nameContains?: string;
  pageSize: number;
  pageToken?: string;
}

export interface SegmentPage {
  /** Newest first: by creation time, then id. */
  segments: UploadedSegment[];
  /** Empty on the last page. */
  nextPageToken: string;
}
