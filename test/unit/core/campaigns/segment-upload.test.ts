import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_UPLOAD_LIMITS,
  readUpload,
  type SegmentUploadReport,
  type UploadFormat,
} from "../../../../core/campaigns/index.ts";
import { DomainError } from "../../../../core/errors.ts";

const A = "6f1c1a56-3c55-4c1e-9d0e-1a2b3c4d5e6f";
const B = "0b7e2a91-8f44-4b3a-a1d2-9e8f7a6b5c4d";
const C = "c3d4e5f6-a7b8-4c9d-8e0f-112233445566";

/** `text` as a body cut into chunks of `size` bytes, so lines straddle chunks. */
async function* chunked(text: string, size: number): AsyncIterable<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** The report, and the members as the store would hold them (a set: duplicates collapse). */
async function upload(
  text: string,
  format: UploadFormat,
  { chunkSize = 7, batchSize = 2 } = {},
): Promise<{ report: SegmentUploadReport; members: string[]; batches: number }> {
  const members = new Set<string>();
  let batches = 0;
  const report = await readUpload(
    chunked(text, chunkSize),
    format,
    async (ids) => {
      batches++;
      const before = members.size;
      for (const id of ids) members.add(id);
      return members.size - before;
    },
    { ...DEFAULT_UPLOAD_LIMITS, batchSize },
  );
  return { report, members: [...members].sort(), batches };
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; details: string[] }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  const { entry, problems } = error as DomainError;
  return { code: entry.code, details: problems.map((problem) => problem.detail) };
}

describe("readUpload of CSV", () => {
  it("finds user_id by its header, in any column, and reports bad rows by line", async () => {
    const { report, members } = await upload(
      [
        "email;User_ID;name",
        `a@example.com;${A};Анна`,
        "",
        `b@example.com;${B.toUpperCase()};Борис`,
        "c@example.com;not-a-uuid;Сергей",
        "d@example.com",
        `e@example.com;${A};Анна снова`,
        "f@example.com;;пусто",
        `"g@example.com";"${C}";"Иван ""Ваня"""`,
        `"broken;${C}`,
      ].join("\r\n"),
      "csv",
    );
    expect(members).toEqual([B, A, C].sort());
    expect(report).toEqual({
      format: "csv",
      rows: 8,
      membersAdded: 3,
      duplicates: 1,
      badRows: 4,
      firstBadRows: [
        { line: 5, reason: "not_a_uuid", detail: "user_id is not a UUID" },
        { line: 6, reason: "missing_user_id", detail: "the row has 1 columns; user_id is column 2" },
        { line: 8, reason: "missing_user_id", detail: "the user_id cell is empty" },
        {
          line: 10,
          reason: "malformed_csv",
          detail: "a quote does not close, or text follows a closing quote",
        },
      ],
    });
  });

  it("takes the first column when there is no header, the first line being a row, after a BOM", async () => {
    const { report, members } = await upload(`\uFEFF${A},x\n${B}\n\n${A}\n`, "csv");
    expect(members).toEqual([B, A].sort());
    expect(report).toMatchObject({ rows: 3, membersAdded: 2, duplicates: 1, badRows: 0 });
  });

  it("reads a last line without a line break, and a header alone is no member", async () => {
    expect((await upload(`user_id\n${A}`, "csv")).members).toEqual([A]);
    expect(await refusal(upload("user_id\n\n", "csv"))).toEqual({
      code: "VALIDATION_ERROR",
      details: ["the upload has no rows, only blank lines or a header"],
    });
  });
});

describe("readUpload of NDJSON", () => {
  it("takes user_id or userId and reports malformed lines by number", async () => {
    const { report, members } = await upload(
      [
        JSON.stringify({ user_id: A, source: "crm" }),
        JSON.stringify({ userId: B }),
        "{not json",
        "[1, 2]",
        JSON.stringify({ id: C }),
        JSON.stringify({ user_id: 42 }),
        JSON.stringify({ user_id: "  " }),
        JSON.stringify({ user_id: "c3d4e5f6" }),
        "",
        JSON.stringify({ user_id: A }),
      ].join("\n"),
      "ndjson",
    );
    expect(members).toEqual([B, A].sort());
    expect(report.firstBadRows).toEqual([
      { line: 3, reason: "malformed_json", detail: "the line is not JSON" },
      { line: 4, reason: "malformed_json", detail: "the line is JSON but not an object" },
      { line: 5, reason: "missing_user_id", detail: "the object has no user_id" },
      { line: 6, reason: "not_a_uuid", detail: "user_id is not a string" },
      { line: 7, reason: "missing_user_id", detail: "user_id is empty" },
      { line: 8, reason: "not_a_uuid", detail: "user_id is not a UUID" },
    ]);
    expect(report).toMatchObject({ rows: 9, membersAdded: 2, duplicates: 1, badRows: 6 });
  });
});

describe("readUpload's limits", () => {
  it("hands members on a batch at a time, whatever the chunks", async () => {
    const ids = Array.from({ length: 25 }, () => randomUUID());
    for (const chunkSize of [1, 37, 1000]) {
      const { members, batches, report } = await upload(ids.join("\n"), "csv", { chunkSize, batchSize: 10 });
      expect(members).toEqual([...ids].sort());
      expect(report.membersAdded).toBe(25);
      // Each batch of at least ten, the rest at the end.
      expect(batches).toBeLessThanOrEqual(3);
    }
  });

  it("counts every bad row but lists only the first ones", async () => {
    const lines = [A, ...Array.from({ length: 150 }, (_, index) => `bad-${index}`)];
    const { report } = await upload(lines.join("\n"), "csv", { chunkSize: 4096 });
    expect(report.badRows).toBe(150);
    expect(report.firstBadRows).toHaveLength(DEFAULT_UPLOAD_LIMITS.reportedBadRows);
    expect(report.firstBadRows.at(-1)?.line).toBe(101);
  });

  it("refuses an empty body, a line past the limit, and an upload without one member", async () => {
    expect(await refusal(upload("", "csv"))).toEqual({
      code: "VALIDATION_ERROR",
      details: ["the body is empty: send the user ids, one a line, as CSV (a user_id column) or NDJSON"],
    });
    const long = `${A}\n${"x".repeat(DEFAULT_UPLOAD_LIMITS.maxLineBytes + 1)}\n${B}\n`;
    for (const chunkSize of [100, 100_000]) {
      expect(await refusal(upload(long, "csv", { chunkSize }))).toEqual({
        code: "VALIDATION_ERROR",
        details: [
          `line 2 is longer than ${DEFAULT_UPLOAD_LIMITS.maxLineBytes} bytes: an upload is one user id a line, as CSV or NDJSON`,
        ],
      });
    }
    // The whole body one line, with no break at all: refused once it passes the limit, not at its end.
    let sent = 0;
    async function* endless(): AsyncIterable<Uint8Array> {
      for (;;) {
        sent += 1024;
        yield Buffer.alloc(1024, "a");
      }
    }
    const refused = await refusal(readUpload(endless(), "csv", async () => 0, DEFAULT_UPLOAD_LIMITS));
    expect(refused.details[0]).toMatch(/^line 1 is longer than/);
    expect(sent).toBeLessThanOrEqual(DEFAULT_UPLOAD_LIMITS.maxLineBytes + 1024);
    expect(await refusal(upload("x\ny\n", "ndjson"))).toEqual({
      code: "VALIDATION_ERROR",
      details: [
        "none of the 2 rows is a user id the segment can take",
        "line 1: the line is not JSON",
        "line 2: the line is not JSON",
      ],
    });
  });
});
