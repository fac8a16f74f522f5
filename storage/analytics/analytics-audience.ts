import { Code, ConnectError } from "@connectrpc/connect";
import type { AudiencePage, AudienceSource, SegmentSummary } from "../../core/campaigns/index.ts";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import { isUuid } from "../../core/uuids.ts";
import type { AnalyticsCall } from "./analytics-client.ts";

// The contract's most user ids a page.
const MAX_PAGE_SIZE = 10_000;

/**
 * Segments of the platform's Analytics Service as an audience source: the cursor is its page
 * token, which the contract keeps valid and stable, so a campaign resumes where it stopped.
 */
export class AnalyticsAudience implements AudienceSource {
  constructor(private readonly call: AnalyticsCall) {}

  async segment(key: string): Promise<SegmentSummary | undefined> {
    try {
      const segment = await this.call("GetSegment", (segments, options) =>
        segments.getSegment({ segmentId: key }, options),
      );
      return {
        name: segment.displayName || key,
        size: segment.memberCount === undefined ? null : Number(segment.memberCount),
        ready: true,
      };
    } catch (error) {
      if (error instanceof ConnectError && error.code === Code.NotFound) return undefined;
      throw error;
    }
  }

  async members(key: string, cursor: string, limit: number): Promise<AudiencePage> {
    try {
      const page = await this.call("ListSegmentMembers", (segments, options) =>
        segments.listSegmentMembers(
          { segmentId: key, pageSize: Math.min(limit, MAX_PAGE_SIZE), pageToken: cursor },
          options,
        ),
      );
      const userIds: string[] = [];
      for (const id of page.userIds) if (isUuid(id)) userIds.push(id.toLowerCase());
      return { userIds, cursor: page.nextPageToken, skipped: page.userIds.length - userIds.length };
    } catch (error) {
      if (error instanceof ConnectError && error.code === Code.NotFound) {
        throw new DomainError(ErrorCatalog.notFound, `the Analytics Service has no segment ${key}`);
      }
      throw error;
    }
  }
}
