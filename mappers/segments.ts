import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type BadRowReason,
  type SegmentDraft,
  type SegmentFilter,
  type SegmentStatus,
  type SegmentUploadReport,
  UPLOAD_PREFIX,
  type UploadedSegment,
  type UploadFormat,
} from "../core/campaigns/index.ts";
import {
  BadRowSchema,
  type ListSegmentsRequest,
  BadRowReason as ProtoBadRowReason,
  SegmentUploadFormat as ProtoFormat,
  SegmentStatus as ProtoStatus,
  type Segment as SegmentMessage,
  SegmentSchema,
  SegmentUploadReportSchema,
} from "../gen/platform/notification/v1/segment_service_pb.ts";

const PROTO_STATUS_OF: Record<SegmentStatus, ProtoStatus> = {
  awaiting_upload: ProtoStatus.AWAITING_UPLOAD,
  ready: ProtoStatus.READY,
};

const PROTO_FORMAT_OF: Record<UploadFormat, ProtoFormat> = {
  csv: ProtoFormat.CSV,
  ndjson: ProtoFormat.NDJSON,
};

const PROTO_REASON_OF: Record<BadRowReason, ProtoBadRowReason> = {
  not_a_uuid: ProtoBadRowReason.NOT_A_UUID,
  missing_user_id: ProtoBadRowReason.MISSING_USER_ID,
  malformed_json: ProtoBadRowReason.MALFORMED_JSON,
  malformed_csv: ProtoBadRowReason.MALFORMED_CSV,
};

// Validation has run: a Segment in a create request has a name.
export function segmentDraftOf(segment: SegmentMessage | undefined): SegmentDraft {
  return { name: segment?.name ?? "", description: segment?.description ?? "" };
}

export function segmentFilterOf(request: ListSegmentsRequest, pageSize: number): SegmentFilter {
  return {
    ...(request.nameContains ? { nameContains: request.nameContains } : {}),
    ...(request.pageToken ? { pageToken: request.pageToken } : {}),
    pageSize,
  };
}

export function segmentMessage(segment: UploadedSegment): SegmentMessage {
  return create(SegmentSchema, {
    id: segment.id,
    targetSegmentId: `${UPLOAD_PREFIX}${segment.id}`,
    name: segment.name,
    description: segment.description,
    status: PROTO_STATUS_OF[segment.status],
    memberCount: BigInt(segment.memberCount),
    ...(segment.uploadReport ? { uploadReport: reportMessage(segment.uploadReport) } : {}),
    createdBy: segment.createdBy,
    createTime: timestampFromDate(segment.createdAt),
    ...(segment.uploadedAt ? { uploadTime: timestampFromDate(segment.uploadedAt) } : {}),
  });
}

function reportMessage(report: SegmentUploadReport) {
  return create(SegmentUploadReportSchema, {
    format: PROTO_FORMAT_OF[report.format],
    rows: BigInt(report.rows),
    membersAdded: BigInt(report.membersAdded),
    duplicates: BigInt(report.duplicates),
    badRows: BigInt(report.badRows),
    firstBadRows: report.firstBadRows.map((row) =>
      create(BadRowSchema, {
        line: BigInt(row.line),
        reason: PROTO_REASON_OF[row.reason],
        detail: row.detail,
      }),
    ),
  });
}
