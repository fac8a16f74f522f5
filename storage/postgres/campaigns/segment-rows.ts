import type { SegmentStatus, SegmentUploadReport, UploadedSegment } from "../../../core/campaigns/index.ts";

/** A row of notification_segments (migration 0015) as a raw query gives it. */
export interface SegmentRow {
  id: string;
  name: string;
  description: string | null;
  status: SegmentStatus;
  member_count: string | number;
  upload_report: SegmentUploadReport | null;
  created_by_subject: string;
  created_at: string | Date;
  uploaded_at: string | Date | null;
  // The cursor's exact time: a Date keeps milliseconds, the column microseconds.
  created_us: string;
}

export const SELECTED = `*, (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us`;

export function segmentOf(row: SegmentRow): UploadedSegment {
  return {
    id: row.id,
    name: row.name,
    description: row.description ?? "",
    status: row.status,
    memberCount: Number(row.member_count),
    uploadReport: row.upload_report,
    createdBy: row.created_by_subject,
    createdAt: new Date(row.created_at),
    uploadedAt: row.uploaded_at === null ? null : new Date(row.uploaded_at),
  };
}
