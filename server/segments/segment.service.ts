import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { SegmentManager } from "../../core/campaigns/index.ts";
import {
  ListSegmentsResponseSchema,
  type SegmentService,
} from "../../gen/platform/notification/v1/segment_service_pb.ts";
import { segmentDraftOf, segmentFilterOf, segmentMessage } from "../../mappers/index.ts";
import { callerKey } from "../api/caller-context.ts";

const DEFAULT_PAGE_SIZE = 50;

/**
 * SegmentService over the segment manager. The members are uploaded through
 * segment-upload-endpoint.ts, which streams them; everything else is here.
 */
export function segmentService(segments: SegmentManager): ServiceImpl<typeof SegmentService> {
  return {
    async createSegment(request, context) {
      return segmentMessage(
        await segments.create(segmentDraftOf(request.segment), context.values.get(callerKey)),
      );
    },
    async getSegment(request) {
      return segmentMessage(await segments.get(request.segmentId));
    },
    async listSegments(request) {
      const page = await segments.list(segmentFilterOf(request, request.pageSize || DEFAULT_PAGE_SIZE));
      return create(ListSegmentsResponseSchema, {
        segments: page.segments.map(segmentMessage),
        nextPageToken: page.nextPageToken,
      });
    },
    async deleteSegment(request, context) {
      return segmentMessage(await segments.delete(request.segmentId, context.values.get(callerKey)));
    },
  };
}
