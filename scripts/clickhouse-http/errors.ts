// Errors as ClickHouse's HTTP interface reports them: the numeric code in the
// X-ClickHouse-Exception-Code header, an HTTP status picked from the error's name,
// and a body "Code: <n>. DB::Exception: <message>. (<NAME>) (version <v>)" from
// which @clickhouse/client builds its ClickHouseError (code, type, message).

export class ClickHouseException extends Error {
  readonly code: number;
  readonly type: string;

  constructor(code: number, type: string, message: string) {
    super(message);
    this.name = "ClickHouseException";
    this.code = code;
    this.type = type;
  }
}

// Codes of the errors this front raises itself; the engine's carry their own.
const ownCodes = {
  CANNOT_READ_ALL_DATA: 33,
  BAD_ARGUMENTS: 36,
  NOT_IMPLEMENTED: 48,
  SYNTAX_ERROR: 62,
  UNKNOWN_SETTING: 115,
  ZLIB_INFLATE_FAILED: 354,
  INTO_OUTFILE_NOT_ALLOWED: 358,
  SESSION_NOT_FOUND: 372,
  SESSION_IS_LOCKED: 373,
  INVALID_SESSION_TIMEOUT: 374,
  BROTLI_READ_FAILED: 448,
  AUTHENTICATION_FAILED: 516,
  ZSTD_DECODER_FAILED: 561,
  LZ4_DECODER_FAILED: 618,
  STD_EXCEPTION: 1001,
} as const;

export type OwnError = keyof typeof ownCodes;

export function clickHouseError(type: OwnError, message: string): ClickHouseException {
  return new ClickHouseException(ownCodes[type], type, message);
}

// ClickHouse's exceptionCodeToHTTPStatus, keyed by name so it needs no code table.
const statusByName = new Map<string, number>();
for (const [status, names] of [
  [401, ["REQUIRED_PASSWORD"]],
  [403, ["UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "SET_NON_GRANTED_ROLE", "ACCESS_DENIED"]],
  [
    400,
    [
      "BAD_ARGUMENTS",
      "CANNOT_COMPILE_REGEXP",
      "CANNOT_PARSE_TEXT",
      "CANNOT_PARSE_ESCAPE_SEQUENCE",
      "CANNOT_PARSE_QUOTED_STRING",
      "CANNOT_PARSE_DATE",
      "CANNOT_PARSE_DATETIME",
      "CANNOT_PARSE_NUMBER",
      "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING",
      "CANNOT_PARSE_IPV4",
      "CANNOT_PARSE_IPV6",
      "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
      "CANNOT_PARSE_UUID",
      "DUPLICATE_COLUMN",
      "ILLEGAL_COLUMN",
      "UNKNOWN_ELEMENT_IN_AST",
      "UNKNOWN_TYPE_OF_AST_NODE",
      "THERE_IS_NO_COLUMN",
      "TOO_DEEP_AST",
      "TOO_BIG_AST",
      "UNEXPECTED_AST_STRUCTURE",
      "SYNTAX_ERROR",
      "INCORRECT_DATA",
      "TYPE_MISMATCH",
      "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
    ],
  ],
  [
    404,
    [
      "UNKNOWN_TABLE",
      "UNKNOWN_FUNCTION",
      "UNKNOWN_IDENTIFIER",
      "UNKNOWN_TYPE",
      "UNKNOWN_STORAGE",
      "UNKNOWN_DATABASE",
      "UNKNOWN_SETTING",
      "UNKNOWN_DIRECTION_OF_SORTING",
      "UNKNOWN_AGGREGATE_FUNCTION",
      "UNKNOWN_FORMAT",
      "UNKNOWN_DATABASE_ENGINE",
      "UNKNOWN_TYPE_OF_QUERY",
      "UNKNOWN_ROLE",
    ],
  ],
  [413, ["QUERY_IS_TOO_LARGE"]],
  [501, ["NOT_IMPLEMENTED"]],
  [503, ["SOCKET_TIMEOUT", "CANNOT_OPEN_FILE", "CANNOT_SCHEDULE_TASK"]],
  [411, ["HTTP_LENGTH_REQUIRED"]],
  [408, ["TIMEOUT_EXCEEDED"]],
  [415, ["UNSUPPORTED_MEDIA_TYPE"]],
] as const) {
  for (const name of names) statusByName.set(name, status);
}

export function httpStatus(error: ClickHouseException): number {
  return statusByName.get(error.type) ?? 500;
}

const head = /^Code: (\d+)\. DB::Exception: /;
const tail = /\. \(([A-Z][A-Z0-9_]*)\)$/;
const versionSuffix = / \(version [^()]*\)$/;

// chdb re-wraps some engine errors once per layer it passes through, e.g.
// "Code: 73. DB::Exception: Code: 73. DB::Exception: Unknown format X. (UNKNOWN_FORMAT)
// (version 26.7.2.1). (UNKNOWN_FORMAT)"; the server reports only the innermost one.
export function fromEngineMessage(raw: string): ClickHouseException | undefined {
  const text = raw.trim();
  const outer = head.exec(text);
  const type = tail.exec(text);
  if (!outer || !type) return undefined;
  let message = text.slice(outer[0].length, type.index);
  while (head.test(message) && versionSuffix.test(message)) {
    const unversioned = message.replace(versionSuffix, "");
    const inner = tail.exec(unversioned);
    if (!inner) break;
    message = unversioned.slice(0, inner.index).replace(head, "");
  }
  return new ClickHouseException(Number(outer[1]), type[1] ?? "", message);
}

export function toClickHouseException(error: unknown): ClickHouseException {
  if (error instanceof ClickHouseException) return error;
  const message = error instanceof Error ? error.message : String(error);
  return fromEngineMessage(message) ?? clickHouseError("STD_EXCEPTION", message);
}

export function errorBody(error: ClickHouseException, version: string): string {
  return `Code: ${error.code}. DB::Exception: ${error.message}. (${error.type}) (version ${version})\n`;
}
