import { randomUUID } from "node:crypto";
import type { Caller } from "../caller.ts";
import { DomainError, ErrorCatalog } from "../errors.ts";
import { UPLOAD_PREFIX } from "./audiences.ts";
import type { CampaignStatus } from "./campaign.ts";
import type { SegmentDraft, SegmentFilter, SegmentPage, UploadedSegment, UploadFormat } from "./segment.ts";
import type { SegmentStore } from "./segment-store.ts";
import { readUpload, type UploadLimits } from "./segment-upload.ts";

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  // An id line is 36 bytes and an export's row with a few more columns some hundreds.
  maxLineBytes: 8 * 1024,
  // About 200 kB of ids per insert: few round trips, little memory.
  batchSize: 5_000,
  reportedBadRows: 100,
};

// The campaigns that read their segment now or will: it must stay as it is for them.
const READING: readonly CampaignStatus[] = ["scheduled", "active", "paused"];

/** Uploaded segments' use cases: create one empty, fill it by one upload, read, delete. */
export class SegmentManager {
  constructor(
    private readonly store: SegmentStore,
    private readonly limits: UploadLimits = DEFAULT_UPLOAD_LIMITS,
  ) {}

  create(draft: SegmentDraft, caller: Caller): Promise<UploadedSegment> {
    return this.store.create(
      {
        ...draft,
        id: randomUUID(),
        status: "awaiting_upload",
        memberCount: 0,
        uploadReport: null,
        createdBy: caller.subject,
        createdAt: new Date(),
        uploadedAt: null,
      },
      caller,
    );
  }

  async get(id: string): Promise<UploadedSegment> {
    return requireSegment(id, await this.store.get(id));
  }

  list(filter: SegmentFilter): Promise<SegmentPage> {
    return this.store.list(filter);
  }

  /**
   * Takes the segment's members from `body` (CSV or NDJSON), all of them or none: a refused
   * upload (an empty body, a line too long, no member at all, the client gone) leaves the
   * segment awaiting its upload. A segment is uploaded once; its members never change after,
   * so a campaign reading it in pages resumes on the same audience.
   */
  upload(
    id: string,
    format: UploadFormat,
    body: AsyncIterable<Uint8Array>,
    caller: Caller,
  ): Promise<UploadedSegment> {
    return this.store.fill(id, caller, async (current, add) => {
      const segment = requireSegment(id, current);
      if (segment.status !== "awaiting_upload") {
        throw new DomainError(
          ErrorCatalog.failedPrecondition,
          `segment ${id} was uploaded at ${segment.uploadedAt?.toISOString()}: a segment's members do not change, so that campaigns reading it resume on the same audience; create another segment for another list`,
        );
      }
      const report = await readUpload(body, format, add, this.limits);
      return {
        ...segment,
        status: "ready",
        memberCount: report.membersAdded,
        uploadReport: report,
        uploadedAt: new Date(),
      };
    });
  }

  /** Deletes a segment and its members, unless a campaign reads it or is to. */
  async delete(id: string, caller: Caller): Promise<UploadedSegment> {
    const readers = (await this.store.targetedBy(`${UPLOAD_PREFIX}${id}`)).filter((campaign) =>
      READING.includes(campaign.status),
    );
    if (readers.length > 0) {
      const named = readers.map((campaign) => `${campaign.id} (${campaign.status})`).join(", ");
      throw new DomainError(
        ErrorCatalog.failedPrecondition,
        `segment ${id} is the audience of campaigns ${named}: complete them first`,
      );
    }
    return this.store.delete(id, caller, (current) => requireSegment(id, current));
  }
}

function requireSegment(id: string, found: UploadedSegment | undefined): UploadedSegment {
  if (!found) {
    throw new DomainError(ErrorCatalog.notFound, `segment ${id} does not exist`, { pointer: "/segment_id" });
  }
  return found;
}
