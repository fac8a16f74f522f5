// What the front needs to know about a statement before the engine sees it, from
// a lexer that only follows ClickHouse's token boundaries (quotes, comments,
// brackets): its kind, an explicit output FORMAT (for the response headers),
// where inline INSERT data starts (so data is handed over as bytes, not SQL), and
// whether a second statement follows, which the server refuses over HTTP but the
// embedded engine would happily run.
//
// The text is a latin1 view of the request bytes: one character per byte, so
// every offset is a byte offset and binary INSERT data survives untouched.

import { clickHouseError } from "./errors.ts";

export interface Statement {
  /** First keyword, upper-cased; "SELECT" for a parenthesised query, "?" when it starts otherwise. */
  kind: string;
  /** Output format named by the statement's own FORMAT clause. */
  format: string | undefined;
  /** INSERT … VALUES / FORMAT x: the statement ends at prefixEnd, its data starts at dataStart. */
  insertData: { prefixEnd: number; dataStart: number; format: string } | undefined;
}

interface Token {
  type: "word" | "quoted" | "punct";
  start: number;
  end: number;
  depth: number;
}

const isWordChar = (code: number): boolean =>
  (code >= 48 && code <= 57) ||
  (code >= 65 && code <= 90) ||
  (code >= 97 && code <= 122) ||
  code === 95 ||
  code >= 128;

function skipQuoted(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") i += 2;
    else if (c === quote) {
      if (text[i + 1] !== quote) return i + 1;
      i += 2;
    } else i++;
  }
  return text.length;
}

function* tokens(text: string): Generator<Token> {
  let depth = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] ?? "";
    const code = text.charCodeAt(i);
    const next = text[i + 1];
    const heredoc = c === "$" ? /^\$\w*\$/.exec(text.slice(i, i + 64))?.[0] : undefined;
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") {
      i++;
    } else if ((c === "-" && next === "-") || (c === "#" && (next === " " || next === "!"))) {
      const eol = text.indexOf("\n", i);
      i = eol < 0 ? n : eol + 1;
    } else if (c === "/" && next === "*") {
      // ClickHouse comments nest.
      let level = 0;
      while (i < n) {
        if (text.startsWith("/*", i)) {
          level++;
          i += 2;
        } else if (text.startsWith("*/", i)) {
          level--;
          i += 2;
          if (level === 0) break;
        } else i++;
      }
    } else if (c === "'" || c === '"' || c === "`") {
      const end = skipQuoted(text, i);
      yield { type: "quoted", start: i, end, depth };
      i = end;
    } else if (heredoc) {
      const close = text.indexOf(heredoc, i + heredoc.length);
      const end = close < 0 ? n : close + heredoc.length;
      yield { type: "quoted", start: i, end, depth };
      i = end;
    } else if (isWordChar(code)) {
      let j = i + 1;
      // A number keeps its decimal point; elsewhere "." separates names.
      const numeric = code >= 48 && code <= 57;
      while (j < n && (isWordChar(text.charCodeAt(j)) || (numeric && text[j] === "."))) j++;
      yield { type: "word", start: i, end: j, depth };
      i = j;
    } else {
      if (c === ")" || c === "]" || c === "}") depth = Math.max(0, depth - 1);
      yield { type: "punct", start: i, end: i + 1, depth };
      if (c === "(" || c === "[" || c === "{") depth++;
      i++;
    }
  }
}

// Kinds whose result the server streams through an output format; the rest
// (INSERT, DDL, SET…) answer with an empty text/plain body and no X-ClickHouse-Format.
const withOutput = new Set([
  "SELECT",
  "WITH",
  "SHOW",
  "DESCRIBE",
  "DESC",
  "EXISTS",
  "EXPLAIN",
  "CHECK",
  "KILL",
  "WATCH",
]);

export function hasOutput(statement: Statement): boolean {
  return withOutput.has(statement.kind);
}

// Words after which VALUES or FORMAT in an INSERT is a table or database name.
const nameIntroducers = new Set(["INTO", "TABLE", "FUNCTION"]);

/**
 * Inspects TEXT, refusing what the server refuses before parsing: an empty query,
 * several statements, INTO OUTFILE, and ';' straight after an INSERT's format name.
 * KNOWN_FORMAT maps a format name (any case) to its canonical spelling, or undefined.
 */
export function inspectStatement(text: string, knownFormat: (name: string) => string | undefined): Statement {
  const statement: Statement = { kind: "", format: undefined, insertData: undefined };
  let previous: Token | undefined;
  let previousWord = "";
  let afterFormat = false;
  let insertSelect = false;
  let endedAt: number | undefined;
  for (const token of tokens(text)) {
    const raw = text.slice(token.start, token.end);
    if (endedAt !== undefined) {
      if (raw === ";") continue;
      const rest = Buffer.from(text.slice(endedAt, endedAt + 40), "latin1").toString("utf8");
      throw clickHouseError(
        "SYNTAX_ERROR",
        `Syntax error (Multi-statements are not allowed): failed at position ${endedAt + 1} (';'): ${rest}`,
      );
    }
    if (raw === ";") {
      endedAt = token.start;
      continue;
    }
    const word = token.type === "word" ? raw.toUpperCase() : "";
    // Never a literal: the kind goes to the log.
    if (previous === undefined) statement.kind = /^[A-Z]/.test(word) ? word : raw === "(" ? "SELECT" : "?";
    if (token.depth === 0 && statement.kind === "INSERT" && !insertSelect) {
      const isName =
        nameIntroducers.has(previousWord) || (previous !== undefined && text[previous.start] === ".");
      if (afterFormat) {
        if (text[token.end] === ";") {
          throw clickHouseError("SYNTAX_ERROR", "You have excessive ';' symbol before data for INSERT");
        }
        let data = token.end;
        while (text[data] === " " || text[data] === "\t" || text[data] === "\f") data++;
        if (text[data] === "\r") data++;
        if (text[data] === "\n") data++;
        statement.insertData = { prefixEnd: token.end, dataStart: data, format: raw };
        return statement;
      }
      if (word === "VALUES" && !isName) {
        statement.insertData = { prefixEnd: token.end, dataStart: token.end, format: "Values" };
        return statement;
      }
      afterFormat = word === "FORMAT" && !isName;
      insertSelect = word === "SELECT" || word === "WITH";
    } else if (token.depth === 0 && statement.kind !== "INSERT") {
      if (afterFormat && token.type === "word") statement.format = knownFormat(raw) ?? statement.format;
      afterFormat = word === "FORMAT";
      if (previousWord === "INTO" && word === "OUTFILE") {
        throw clickHouseError("INTO_OUTFILE_NOT_ALLOWED", "INTO OUTFILE is not allowed");
      }
    }
    previous = token;
    previousWord = word;
  }
  if (statement.kind === "") throw clickHouseError("SYNTAX_ERROR", "Empty query");
  return statement;
}

/**
 * Refuses INSERT data that the embedded engine would not take as data. It runs the
 * statement and its data as a script (clickhouse-local's multi-query mode), so it ends
 * Values data at a ';' and any format's data at an empty line, and runs what follows
 * as further statements: a CSV field or a Native column holding "\n\nDROP TABLE x"
 * would drop the table. The server over HTTP never runs a second statement: after a
 * ';' in Values it fails with CANNOT_READ_ALL_DATA, and an empty line is data.
 */
export function checkInsertData(data: Buffer, format: string): void {
  const text = data.toString("latin1");
  if (format.toLowerCase() === "values") {
    let semicolon: number | undefined;
    for (const token of tokens(text)) {
      if (semicolon !== undefined) {
        throw clickHouseError(
          "CANNOT_READ_ALL_DATA",
          "Cannot read data after semicolon (and input_format_values_allow_data_after_semicolon=0)",
        );
      }
      if (token.depth === 0 && text[token.start] === ";") semicolon = token.start;
    }
    return;
  }
  const blank = text.indexOf("\n\n");
  // Trailing empty lines are harmless: the engine finds no statement in them.
  if (blank >= 0 && /[^ \t\r\n\f\v]/.test(text.slice(blank + 2))) {
    throw clickHouseError(
      "NOT_IMPLEMENTED",
      `INSERT data with an empty line before more data (at byte ${blank + 1}) is not supported by this front: its embedded engine would end the data there and run the rest as a query`,
    );
  }
}

// Literals for the statements the front itself sends (USE, SET): ClickHouse's
// backslash escaping, so no value can close the quote it sits in.
export function quoteString(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

export function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll("\\", "\\\\").replaceAll("`", "\\`")}\``;
}

const settingName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isSettingName(name: string): boolean {
  return settingName.test(name);
}
