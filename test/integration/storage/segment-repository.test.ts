import { randomBytes, randomUUID } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Caller } from "../../../core/caller.ts";
import { SegmentManager, UploadedAudience } from "../../../core/campaigns/index.ts";
import type { DomainError } from "../../../core/errors.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { SegmentRepository, TemplateRepository } from "../../../storage/index.ts";
import { localServices } from "../../support/services.ts";

// Uploaded segments on the real PostgreSQL: an upload of 200,000 rows streamed through the
// manager into the repository in bounded memory, members read back in pages from a cursor that
// resumes exactly, and an upload that is all or nothing under the segment's lock.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const ROWS = 200_000;
// The 8 hex digits that make this run's ids its own; the rest is the row's index, so id order is index order.
const RUN = randomBytes(4).toString("hex");
const idAt = (index: number) => `${RUN}-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;

describe("SegmentRepository on PostgreSQL", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 6 }, createLogger("silent"));
  const repository = new SegmentRepository(orm);
  const segments = new SegmentManager(repository);
  const marketer: Caller = { subject: `marketer-${randomUUID()}`, roles: ["marketer"], via: "jwt" };
  const made: string[] = [];

  const created = async (name = "Покупатели весны") => {
    const segment = await segments.create({ name, description: "" }, marketer);
    made.push(segment.id);
    return segment;
  };

  function sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return orm.em.fork().getConnection().execute<T[]>(text, params);
  }

  afterAll(async () => {
    await sql("DELETE FROM notification_segment_members WHERE segment_id = ANY(?::uuid[])", [`{${made}}`]);
    await sql("DELETE FROM notification_segments WHERE id = ANY(?::uuid[])", [`{${made}}`]);
    await sql("DELETE FROM notification_campaigns WHERE created_by_subject = ?", [marketer.subject]);
    await orm.close(true);
  });

  describe("an upload of 200,000 rows", () => {
    let segmentId = "";
    let dataBytes = 0;
    let peakGrowth = 0;
    let seconds = 0;

    /** The CSV with a header, every 1000th row repeating the row before it, in 64 KiB chunks; the heap sampled as it goes. */
    async function* body(baseline: number): AsyncIterable<Uint8Array> {
      let chunk = "user_id\n";
      let chunks = 0;
      for (let index = 0; index < ROWS; index++) {
        chunk += `${idAt(index % 1000 === 999 ? index - 1 : index)}\n`;
        if (chunk.length >= 64 * 1024 || index === ROWS - 1) {
          dataBytes += chunk.length;
          yield Buffer.from(chunk);
          chunk = "";
          if (++chunks % 8 === 0) {
            // What the upload keeps alive, not the garbage it made on the way.
            gc();
            peakGrowth = Math.max(peakGrowth, process.memoryUsage().heapUsed - baseline);
          }
        }
      }
    }

    beforeAll(async () => {
      segmentId = (await created()).id;
      gc();
      const baseline = process.memoryUsage().heapUsed;
      const started = performance.now();
      await segments.upload(segmentId, "csv", body(baseline), marketer);
      seconds = (performance.now() - started) / 1000;
    }, 120_000);

    it("takes every distinct id once, with its report kept on the segment", async () => {
      const segment = await segments.get(segmentId);
      expect(segment).toMatchObject({
        status: "ready",
        memberCount: ROWS - ROWS / 1000,
        uploadReport: {
          format: "csv",
          rows: ROWS,
          membersAdded: ROWS - ROWS / 1000,
          duplicates: ROWS / 1000,
          badRows: 0,
          firstBadRows: [],
        },
      });
      expect(segment.uploadedAt).toBeInstanceOf(Date);
      const [count] = await sql<{ count: string }>(
        "SELECT count(*) FROM notification_segment_members WHERE segment_id = ?",
        [segmentId],
      );
      expect(Number(count?.count)).toBe(ROWS - ROWS / 1000);
    });

    it("holds far less than the data in memory while it streams", () => {
      console.info(
        `200,000 rows (${(dataBytes / 1e6).toFixed(1)} MB) uploaded in ${seconds.toFixed(1)} s; peak retained heap growth ${(peakGrowth / 1e6).toFixed(2)} MB`,
      );
      expect(dataBytes).toBeGreaterThan(7_000_000);
      expect(peakGrowth).toBeLessThan(dataBytes / 5);
    });

    it("is read in pages in id order, and a reader that stopped resumes from its cursor exactly", async () => {
      const expected = (index: number) => (index % 1000 === 999 ? undefined : idAt(index));
      const read: string[] = [];
      let cursor = "";
      // A reader stops after five pages, keeping only its cursor; another takes over from it.
      for (let page = 0; page < 5; page++) {
        const got = await new UploadedAudience(repository).members(segmentId, cursor, 7_000);
        read.push(...got.userIds);
        cursor = got.cursor;
      }
      const resumed = new UploadedAudience(repository);
      do {
        const got = await resumed.members(segmentId, cursor, 7_000);
        read.push(...got.userIds);
        cursor = got.cursor;
      } while (cursor !== "");
      const all = Array.from({ length: ROWS }, (_, index) => expected(index)).filter(
        (id): id is string => id !== undefined,
      );
      expect(read.length).toBe(all.length);
      expect(read).toEqual(all);
    });
  });

  it("keeps nothing of an upload refused midway, and takes the next one", async () => {
    const segment = await created();
    async function* body(): AsyncIterable<Uint8Array> {
      yield Buffer.from(Array.from({ length: 12_000 }, (_, index) => idAt(index)).join("\n"));
      yield Buffer.from(`\n${"x".repeat(10_000)}\n`);
    }
    const refused = await segments
      .upload(segment.id, "csv", body(), marketer)
      .catch((error: unknown) => error);
    expect((refused as DomainError).detail).toMatch(/^line 12001 is longer than 8192 bytes/);
    expect(await segments.get(segment.id)).toMatchObject({ status: "awaiting_upload", memberCount: 0 });
    const [count] = await sql<{ count: string }>(
      "SELECT count(*) FROM notification_segment_members WHERE segment_id = ?",
      [segment.id],
    );
    expect(Number(count?.count)).toBe(0);
    async function* retry(): AsyncIterable<Uint8Array> {
      yield Buffer.from(`${idAt(1)}\n${idAt(2)}\n`);
    }
    expect((await segments.upload(segment.id, "csv", retry(), marketer)).memberCount).toBe(2);
  });

  it("refuses a second upload, and an upload or a delete while one is under way, at once", async () => {
    const segment = await created();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slow(): AsyncIterable<Uint8Array> {
      yield Buffer.from(`${idAt(1)}\n`);
      await held;
      yield Buffer.from(`${idAt(2)}\n`);
    }
    const first = segments.upload(segment.id, "ndjson", slow(), marketer).catch((error: unknown) => error);
    // The first holds the lock once it has read its first chunk.
    await new Promise((resolve) => setTimeout(resolve, 300));
    async function* other(): AsyncIterable<Uint8Array> {
      yield Buffer.from(`{"user_id":"${idAt(3)}"}\n`);
    }
    const codeOf = async (promise: Promise<unknown>) =>
      ((await promise.catch((error: unknown) => error)) as DomainError).entry?.code;
    expect(await codeOf(segments.upload(segment.id, "ndjson", other(), marketer))).toBe("CONFLICT");
    expect(await codeOf(segments.delete(segment.id, marketer))).toBe("CONFLICT");
    release();
    // NDJSON lines that are CSV ids: bad rows, and with no member at all the upload is refused.
    expect(((await first) as DomainError).detail).toBe(
      "none of the 2 rows is a user id the segment can take",
    );
    expect((await segments.upload(segment.id, "ndjson", other(), marketer)).memberCount).toBe(1);
    const again = await codeOf(segments.upload(segment.id, "ndjson", other(), marketer));
    expect(again).toBe("FAILED_PRECONDITION");
  });

  it("deletes a segment with its members, unless a campaign that is to read it targets it", async () => {
    const segment = await created();
    async function* ids(): AsyncIterable<Uint8Array> {
      yield Buffer.from(`${idAt(1)}\n${idAt(2)}\n`);
    }
    await segments.upload(segment.id, "csv", ids(), marketer);
    const template = await new TemplateRepository(orm).create(
      {
        name: `segment_repo_${randomUUID().slice(0, 8)}`,
        description: "",
        channel: "email",
        defaultLanguageCode: "ru",
        exampleVariables: {},
      },
      marketer,
    );
    const [campaign] = await sql<{ id: string }>(
      `INSERT INTO notification_campaigns (name, target_segment_id, template_id, status, created_by_subject, updated_by)
       VALUES ('Весна', ?, ?, 'scheduled', ?, ?) RETURNING id`,
      [`upload:${segment.id}`, template.id, marketer.subject, marketer.subject],
    );
    const refused = (await segments
      .delete(segment.id, marketer)
      .catch((error: unknown) => error)) as DomainError;
    expect([refused.entry.code, refused.detail]).toEqual([
      "FAILED_PRECONDITION",
      `segment ${segment.id} is the audience of campaigns ${campaign?.id} (scheduled): complete them first`,
    ]);
    await sql("UPDATE notification_campaigns SET status = 'completed' WHERE id = ?", [campaign?.id]);
    expect((await segments.delete(segment.id, marketer)).id).toBe(segment.id);
    expect(await repository.get(segment.id)).toBeUndefined();
    expect(await repository.members(segment.id, "", 10)).toEqual([]);
    const [audit] = await sql<{ count: string }>(
      "SELECT count(*) FROM audit_log WHERE resource_type = 'segment' AND resource_id = ?",
      [segment.id],
    );
    expect(Number(audit?.count)).toBe(3);
  });

  it("lists newest first in keyset pages, filtered by name", async () => {
    const name = `Список ${randomUUID().slice(0, 8)}`;
    const ids = [];
    for (let index = 0; index < 3; index++) ids.push((await created(`${name} ${index}`)).id);
    const first = await segments.list({ nameContains: name.toUpperCase(), pageSize: 2 });
    expect(first.segments.map((segment) => segment.id)).toEqual([ids[2], ids[1]]);
    const second = await segments.list({ nameContains: name, pageSize: 2, pageToken: first.nextPageToken });
    expect(second.segments.map((segment) => segment.id)).toEqual([ids[0]]);
    expect(second.nextPageToken).toBe("");
  });
});
