import { DomainError, ErrorCatalog } from "../errors.ts";
import { isUuid } from "../uuids.ts";
import type { AudiencePage, AudienceSource, SegmentSummary } from "./audience-source.ts";
import type { SegmentStore } from "./segment-store.ts";

/**
 * Uploaded segments as an audience source. Members are read in user id order and the cursor
 * is the last id read: a segment does not change once uploaded, so a cursor resumes exactly.
 */
export class UploadedAudience implements AudienceSource {
  constructor(private readonly store: Pick<SegmentStore, "get" | "members">) {}

  async segment(key: string): Promise<SegmentSummary | undefined> {
    const segment = await this.store.get(key);
    if (!segment) return undefined;
    return {
      name: segment.name,
      size: segment.status === "ready" ? segment.memberCount : null,
      ready: segment.status === "ready",
    };
  }

  async members(key: string, cursor: string, limit: number): Promise<AudiencePage> {
    if (cursor !== "" && !isUuid(cursor)) {
      throw new DomainError(ErrorCatalog.validation, "the cursor is not one an uploaded segment gave");
    }
    const userIds = await this.store.members(key, cursor.toLowerCase(), limit);
    return {
      userIds,
      cursor: userIds.length < limit ? "" : (userIds.at(-1) ?? ""),
      skipped: 0,
    };
  }
}
