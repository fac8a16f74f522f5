import { DomainError, ErrorCatalog, type ErrorProblem } from "../errors.ts";
import type { BadRow, SegmentUploadReport, UploadFormat } from "./segment.ts";
import { UploadLines } from "./upload-lines.ts";
import { rowReaderOf } from "./upload-rows.ts";

export interface UploadLimits {
  /** The longest line read; a longer one refuses the upload. */
  maxLineBytes: number;
  /** Members handed on at once: what an upload holds in memory, besides one chunk of its body. */
  batchSize: number;
  /** Bad rows the report lists by line (all are counted). */
  reportedBadRows: number;
}

/** How members leave an upload: a batch of ids in, how many of them were new to the segment out. */
export type AddMembers = (userIds: string[]) => Promise<number>;

// The bad rows a refused upload names in its error, beside the report's count.
const REFUSAL_PROBLEMS = 10;

/**
 * Reads an upload's body as it arrives: lines, rows, members handed to `add` a batch at a
 * time, bad rows counted and the first ones kept by line. Refuses (VALIDATION_ERROR) an empty
 * body, a line past the limit, and an upload with no member at all; whoever applies the
 * batches keeps them or none.
 */
export async function readUpload(
  body: AsyncIterable<Uint8Array>,
  format: UploadFormat,
  add: AddMembers,
  limits: UploadLimits,
): Promise<SegmentUploadReport> {
  const lines = new UploadLines(limits.maxLineBytes);
  const readRow = rowReaderOf(format);
  const report: SegmentUploadReport = {
    format,
    rows: 0,
    membersAdded: 0,
    duplicates: 0,
    badRows: 0,
    firstBadRows: [],
  };
  let batch: string[] = [];
  let bytes = 0;
  const take = (text: string, line: number) => {
    const row = readRow(text);
    if (row === "skipped") return;
    report.rows++;
    if ("userId" in row) {
      batch.push(row.userId);
      return;
    }
    report.badRows++;
    if (report.firstBadRows.length < limits.reportedBadRows) {
      report.firstBadRows.push({ line, reason: row.bad, detail: row.detail });
    }
  };
  const flush = async () => {
    const taken = batch;
    batch = [];
    report.membersAdded += await add(taken);
  };
  for await (const chunk of body) {
    bytes += chunk.length;
    lines.push(chunk, take);
    if (batch.length >= limits.batchSize) await flush();
  }
  lines.end(take);
  if (batch.length > 0) await flush();
  if (bytes === 0) {
    throw new DomainError(
      ErrorCatalog.validation,
      "the body is empty: send the user ids, one a line, as CSV (a user_id column) or NDJSON",
    );
  }
  report.duplicates = report.rows - report.badRows - report.membersAdded;
  if (report.rows - report.badRows === 0) throw noMember(report);
  return report;
}

function noMember(report: SegmentUploadReport): DomainError {
  const detail =
    report.rows === 0
      ? "the upload has no rows, only blank lines or a header"
      : `none of the ${report.rows} rows is a user id the segment can take`;
  const problems: ErrorProblem[] = report.firstBadRows
    .slice(0, REFUSAL_PROBLEMS)
    .map((row: BadRow) => ({ detail: `line ${row.line}: ${row.detail}`, source: {} }));
  return new DomainError(ErrorCatalog.validation, detail, {}, problems);
}
