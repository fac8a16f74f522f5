import { isUuid } from "../uuids.ts";
import type { BadRowReason, UploadFormat } from "./segment.ts";

/** What one line of an upload is: a member, a bad row, or nothing to count (blank, the header). */
export type RowReading = { userId: string } | { bad: BadRowReason; detail: string } | "skipped";

/** Reads an upload's lines in order; a reader keeps what the first lines told it (the CSV header). */
export type RowReader = (text: string) => RowReading;

export function rowReaderOf(format: UploadFormat): RowReader {
  return format === "csv" ? csvRows() : ndjsonRows();
}

const BOM = "\uFEFF";
const HEADER = "user_id";

/**
 * CSV (RFC 4180 quoting within a line): the user_id column found by a header that names it
 * (in any case), else the first column, the first line being a row. Comma-separated, or
 * semicolon-separated when the first line has semicolons and no commas, as spreadsheets in a
 * Russian locale save it. A quoted field does not span lines: ids have no line breaks.
 */
function csvRows(): RowReader {
  let started = false;
  let delimiter = ",";
  let column = 0;
  return (line) => {
    const text = started ? line : line.replace(BOM, "");
    if (text.trim() === "") return "skipped";
    if (!started) {
      started = true;
      if (text.includes(";") && !text.includes(",")) delimiter = ";";
      const header = cellsOf(text, delimiter)?.findIndex((cell) => cell.trim().toLowerCase() === HEADER);
      if (header !== undefined && header !== -1) {
        column = header;
        return "skipped";
      }
    }
    const cells = cellsOf(text, delimiter);
    if (!cells)
      return { bad: "malformed_csv", detail: "a quote does not close, or text follows a closing quote" };
    const cell = cells[column];
    if (cell === undefined) {
      return {
        bad: "missing_user_id",
        detail: `the row has ${cells.length} columns; user_id is column ${column + 1}`,
      };
    }
    return userIdOf(cell.trim(), "the user_id cell is empty");
  };
}

/** The cells of one CSV line, or undefined when its quoting is broken. */
function cellsOf(line: string, delimiter: string): string[] | undefined {
  if (!line.includes('"')) return line.split(delimiter);
  const cells: string[] = [];
  let at = 0;
  for (;;) {
    while (line[at] === " ") at++;
    if (line[at] === '"') {
      let cell = "";
      at++;
      for (;;) {
        const quote = line.indexOf('"', at);
        if (quote === -1) return undefined;
        cell += line.slice(at, quote);
        if (line[quote + 1] === '"') {
          cell += '"';
          at = quote + 2;
          continue;
        }
        at = quote + 1;
        break;
      }
      while (line[at] === " ") at++;
      cells.push(cell);
      if (at === line.length) return cells;
      if (line[at] !== delimiter) return undefined;
      at++;
    } else {
      const next = line.indexOf(delimiter, at);
      cells.push(line.slice(at, next === -1 ? line.length : next));
      if (next === -1) return cells;
      at = next + 1;
    }
  }
}

/** NDJSON: one JSON object a line, the id in user_id (or userId, its proto JSON name). */
function ndjsonRows(): RowReader {
  let started = false;
  return (line) => {
    const text = started ? line : line.replace(BOM, "");
    started = true;
    if (text.trim() === "") return "skipped";
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { bad: "malformed_json", detail: "the line is not JSON" };
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return { bad: "malformed_json", detail: "the line is JSON but not an object" };
    }
    const fields = value as Record<string, unknown>;
    const id = fields.user_id ?? fields.userId;
    if (id === undefined || id === null)
      return { bad: "missing_user_id", detail: "the object has no user_id" };
    if (typeof id !== "string") return { bad: "not_a_uuid", detail: "user_id is not a string" };
    return userIdOf(id.trim(), "user_id is empty");
  };
}

function userIdOf(id: string, whenEmpty: string): RowReading {
  if (id === "") return { bad: "missing_user_id", detail: whenEmpty };
  if (!isUuid(id)) return { bad: "not_a_uuid", detail: "user_id is not a UUID" };
  return { userId: id.toLowerCase() };
}
