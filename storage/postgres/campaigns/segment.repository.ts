import type { MikroORM } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Caller } from "../../../core/caller.ts";
import type {
  AddMembers,
  CampaignStatus,
  SegmentFilter,
  SegmentPage,
  SegmentStore,
  UploadedSegment,
} from "../../../core/campaigns/index.ts";
import { DomainError, ErrorCatalog } from "../../../core/errors.ts";
import { recordAudit } from "../audit.ts";
import { boundQuery } from "../bound-sql.ts";
import { cursorOf, pageTokenOf } from "../keyset-cursor.ts";
import { SELECTED, type SegmentRow, segmentOf } from "./segment-rows.ts";

// PostgreSQL's lock_not_available: FOR UPDATE NOWAIT met a lock held by another transaction.
const LOCK_NOT_AVAILABLE = "55P03";

/**
 * SegmentStore on PostgreSQL. An upload is one transaction holding the segment's row lock
 * from its first member to the last, so a segment is never seen half uploaded, and a second
 * upload or a delete of it meanwhile is refused at once rather than left waiting.
 */
export class SegmentRepository implements SegmentStore {
  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }

  create(segment: UploadedSegment, caller: Caller): Promise<UploadedSegment> {
    return this.em().transactional(async (em) => {
      const [row] = await boundQuery<SegmentRow>(
        em as EntityManager,
        `INSERT INTO notification_segments (id, name, description, status, created_by_subject, created_at)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING ${SELECTED}`,
        [
          segment.id,
          segment.name,
          segment.description || null,
          segment.status,
          segment.createdBy,
          segment.createdAt.toISOString(),
        ],
      );
      if (!row) throw new Error(`segment ${segment.id} was not inserted`);
      const created = segmentOf(row);
      audit(em as EntityManager, caller, "segment.create", undefined, created);
      return created;
    });
  }

  async get(id: string): Promise<UploadedSegment | undefined> {
    const [row] = await boundQuery<SegmentRow>(
      this.em(),
      `SELECT ${SELECTED} FROM notification_segments WHERE id = ?`,
      [id],
    );
    return row ? segmentOf(row) : undefined;
  }

  async list(filter: SegmentFilter): Promise<SegmentPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.nameContains) {
      where.push("name ILIKE ?");
      params.push(`%${filter.nameContains.replace(/[\\%_]/g, (char) => `\\${char}`)}%`);
    }
    if (filter.pageToken) {
      const after = cursorOf(filter.pageToken);
      where.push("(created_at, id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)");
      params.push(after.us, after.id);
    }
    const rows = await boundQuery<SegmentRow>(
      this.em(),
      `SELECT ${SELECTED} FROM notification_segments ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...params, filter.pageSize + 1],
    );
    const page = rows.slice(0, filter.pageSize);
    const last = page.at(-1);
    return {
      segments: page.map(segmentOf),
      nextPageToken:
        rows.length > filter.pageSize && last ? pageTokenOf({ us: last.created_us, id: last.id }) : "",
    };
  }

  fill(
    id: string,
    caller: Caller,
    fill: (current: UploadedSegment | undefined, add: AddMembers) => Promise<UploadedSegment>,
  ): Promise<UploadedSegment> {
    return this.em().transactional(async (transaction) => {
      const em = transaction as EntityManager;
      const current = await locked(em, id, "upload");
      const add: AddMembers = async (userIds) => {
        // One statement per batch; ON CONFLICT collapses an id the segment has, or the batch repeats.
        const [row] = await boundQuery<{ added: number }>(
          em,
          `WITH added AS (
             INSERT INTO notification_segment_members (segment_id, user_id)
             SELECT ?::uuid, unnest(?::uuid[]) ON CONFLICT DO NOTHING RETURNING 1
           ) SELECT count(*)::int AS added FROM added`,
          [id, userIds],
        );
        return row?.added ?? 0;
      };
      const filled = await fill(current, add);
      const [row] = await boundQuery<SegmentRow>(
        em,
        `UPDATE notification_segments SET status = ?, member_count = ?, upload_report = ?::jsonb, uploaded_at = ?
          WHERE id = ? RETURNING ${SELECTED}`,
        [
          filled.status,
          filled.memberCount,
          JSON.stringify(filled.uploadReport),
          filled.uploadedAt?.toISOString() ?? null,
          id,
        ],
      );
      if (!row) throw new Error(`segment ${id} went missing under its lock`);
      const after = segmentOf(row);
      audit(em, caller, "segment.upload", current, after);
      return after;
    });
  }

  delete(
    id: string,
    caller: Caller,
    decide: (current: UploadedSegment | undefined) => UploadedSegment,
  ): Promise<UploadedSegment> {
    return this.em().transactional(async (transaction) => {
      const em = transaction as EntityManager;
      const segment = decide(await locked(em, id, "delete"));
      await boundQuery(em, "DELETE FROM notification_segment_members WHERE segment_id = ?", [id]);
      await boundQuery(em, "DELETE FROM notification_segments WHERE id = ?", [id]);
      audit(em, caller, "segment.delete", segment, undefined);
      return segment;
    });
  }

  targetedBy(targetSegmentId: string): Promise<{ id: string; status: CampaignStatus }[]> {
    return boundQuery<{ id: string; status: CampaignStatus }>(
      this.em(),
      "SELECT id, status FROM notification_campaigns WHERE target_segment_id = ? ORDER BY created_at",
      [targetSegmentId],
    );
  }

  async members(id: string, after: string, limit: number): Promise<string[]> {
    const rows = await boundQuery<{ user_id: string }>(
      this.em(),
      after === ""
        ? "SELECT user_id FROM notification_segment_members WHERE segment_id = ? ORDER BY user_id LIMIT ?"
        : "SELECT user_id FROM notification_segment_members WHERE segment_id = ? AND user_id > ?::uuid ORDER BY user_id LIMIT ?",
      after === "" ? [id, limit] : [id, after, limit],
    );
    return rows.map((row) => row.user_id);
  }
}

/** The segment under its row lock, or undefined; CONFLICT when another transaction holds it (an upload). */
async function locked(
  em: EntityManager,
  id: string,
  what: "upload" | "delete",
): Promise<UploadedSegment | undefined> {
  try {
    const [row] = await boundQuery<SegmentRow>(
      em,
      `SELECT ${SELECTED} FROM notification_segments WHERE id = ? FOR UPDATE NOWAIT`,
      [id],
    );
    return row ? segmentOf(row) : undefined;
  } catch (error) {
    if (!isLockNotAvailable(error)) throw error;
    throw new DomainError(
      ErrorCatalog.conflict,
      `segment ${id} is being uploaded by another request: ${what === "upload" ? "wait for its answer" : "delete it once that upload has ended"}`,
    );
  }
}

function isLockNotAvailable(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if ((cause as { code?: unknown }).code === LOCK_NOT_AVAILABLE) return true;
  }
  return false;
}

function audit(
  em: EntityManager,
  caller: Caller,
  action: string,
  before: UploadedSegment | undefined,
  after: UploadedSegment | undefined,
): void {
  const segment = after ?? before;
  if (!segment) return;
  recordAudit(em, {
    caller,
    action,
    resourceType: "segment",
    resourceId: segment.id,
    ...(before ? { before } : {}),
    ...(after ? { after } : {}),
  });
}
