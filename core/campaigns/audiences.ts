import { DomainError, ErrorCatalog } from "../errors.ts";
import { isUuid } from "../uuids.ts";
import type { AudiencePage, AudienceSource, SegmentSummary } from "./audience-source.ts";

/** The sources a target_segment_id can name, by the prefix that names them. */
export interface AudienceSources {
  /** Segments uploaded to this service: "upload:<segment id>". */
  upload: AudienceSource;
  /** Segments of the platform's Analytics Service, "analytics:<its key>"; absent when none is configured. */
  analytics?: AudienceSource;
}

export const UPLOAD_PREFIX = "upload:";
export const ANALYTICS_PREFIX = "analytics:";
// The Analytics Service's keys are its own; anything printable but spaces, to stay one token in logs and URLs.
const ANALYTICS_KEY = /^[\x21-\x7e]+$/;

/**
 * A campaign's audience by its target_segment_id, which names its source as well as the
 * segment, so that one id can never mean two segments.
 */
export class Audiences {
  constructor(private readonly sources: AudienceSources) {}

  /** What is wrong with a target_segment_id's form, or undefined when its source can be asked. */
  problemOf(targetSegmentId: string): string | undefined {
    const resolved = this.resolve(targetSegmentId);
    return "problem" in resolved ? resolved.problem : undefined;
  }

  /** The segment, or undefined when its source has none; a malformed id is a validation error. */
  async find(targetSegmentId: string): Promise<SegmentSummary | undefined> {
    const { source, key } = this.required(targetSegmentId);
    return source.segment(key);
  }

  /** A page of the segment's members after `cursor` ("" for the first). */
  async members(targetSegmentId: string, cursor: string, limit: number): Promise<AudiencePage> {
    const { source, key } = this.required(targetSegmentId);
    return source.members(key, cursor, limit);
  }

  private required(targetSegmentId: string): { source: AudienceSource; key: string } {
    const resolved = this.resolve(targetSegmentId);
    if ("problem" in resolved) {
      throw new DomainError(ErrorCatalog.validation, resolved.problem);
    }
    return resolved;
  }

  private resolve(targetSegmentId: string): { source: AudienceSource; key: string } | { problem: string } {
    if (targetSegmentId.startsWith(UPLOAD_PREFIX)) {
      const key = targetSegmentId.slice(UPLOAD_PREFIX.length);
      if (!isUuid(key)) {
        return { problem: `target_segment_id "${targetSegmentId}": an uploaded segment's id is a UUID` };
      }
      return { source: this.sources.upload, key: key.toLowerCase() };
    }
    if (targetSegmentId.startsWith(ANALYTICS_PREFIX)) {
      const key = targetSegmentId.slice(ANALYTICS_PREFIX.length);
      if (!ANALYTICS_KEY.test(key)) {
        return {
          problem: `target_segment_id "${targetSegmentId}": an Analytics Service segment's key is printable characters without spaces`,
        };
      }
      if (!this.sources.analytics) {
        return {
          problem: `target_segment_id "${targetSegmentId}": this service has no Analytics Service configured (ANALYTICS_URL), so it cannot read its segments`,
        };
      }
      return { source: this.sources.analytics, key };
    }
    return {
      problem: `target_segment_id "${targetSegmentId}" names no source of segments: give ${UPLOAD_PREFIX}<id> for a segment uploaded here (SegmentService), or ${ANALYTICS_PREFIX}<key> for one of the Analytics Service`,
    };
  }
}
