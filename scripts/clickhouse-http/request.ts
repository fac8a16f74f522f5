// Turns an HTTP request into the query ClickHouse's HTTP handler would run: the
// statement from the `query` parameter and/or the body (joined by a newline),
// query parameters, settings from the remaining URL parameters, the session,
// credentials and the response encoding.

import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { chooseResponseEncoding, decodeRequestBody, type ResponseEncoding } from "./encoding.ts";
import { clickHouseError } from "./errors.ts";
import { collectQueryParameters, isQueryParameter, type QueryParameters } from "./params.ts";
import type { SessionOptions } from "./sessions.ts";

export interface Credentials {
  user: string;
  password: string;
}

export interface QueryRequest {
  /** GET and HEAD requests run with readonly=2, as in the server. */
  readonly: boolean;
  /** The statement, followed by inline INSERT data when there is any. */
  text: Buffer;
  parameters: QueryParameters;
  settings: Array<readonly [string, string]>;
  database: string | undefined;
  defaultFormat: string | undefined;
  queryId: string;
  session: SessionOptions | undefined;
  credentials: Credentials;
  responseEncoding: ResponseEncoding | undefined;
  compressionLevel: number;
}

// URL parameters the handler consumes itself; every other one is a setting.
const reserved = new Set([
  "query",
  "database",
  "default_format",
  "query_id",
  "session_id",
  "session_timeout",
  "session_check",
  "close_session",
  "user",
  "password",
  "quota_key",
  "stacktrace",
  "buffer_size",
  "wait_end_of_query",
  "compress",
  "decompress",
  "client_protocol_version",
  "role",
]);

// ClickHouse's defaults (default_session_timeout, max_session_timeout).
const defaultSessionTimeout = 60;
const maxSessionTimeout = 3600;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function flag(value: string | null): boolean {
  return value === "1" || value?.toLowerCase() === "true";
}

function sessionOptions(url: URLSearchParams): SessionOptions | undefined {
  const id = url.get("session_id");
  if (!id) return undefined;
  const timeout = url.get("session_timeout");
  let timeoutSeconds = defaultSessionTimeout;
  if (timeout !== null) {
    if (!/^\d+$/.test(timeout)) {
      throw clickHouseError("INVALID_SESSION_TIMEOUT", `Invalid session timeout: '${timeout}'`);
    }
    timeoutSeconds = Number(timeout);
    if (timeoutSeconds > maxSessionTimeout) {
      throw clickHouseError(
        "INVALID_SESSION_TIMEOUT",
        `Session timeout '${timeout}' is larger than max_session_timeout: ${maxSessionTimeout}`,
      );
    }
  }
  return { id, timeoutSeconds, check: flag(url.get("session_check")), close: flag(url.get("close_session")) };
}

// Headers, Basic auth or URL parameters, never two of them (the server's rule).
function credentials(req: IncomingMessage, url: URLSearchParams): Credentials {
  const headerUser = header(req, "x-clickhouse-user");
  const headerKey = header(req, "x-clickhouse-key");
  const authorization = header(req, "authorization");
  const inUrl = url.has("user") || url.has("password");
  const mixed = (what: string): Error =>
    clickHouseError(
      "AUTHENTICATION_FAILED",
      `Invalid authentication: it is not allowed to use ${what} simultaneously`,
    );
  if (headerUser || headerKey) {
    if (authorization) throw mixed("X-ClickHouse HTTP headers and Authorization HTTP header");
    if (inUrl) throw mixed("X-ClickHouse HTTP headers and authentication via parameters");
    return { user: headerUser || "default", password: headerKey ?? "" };
  }
  if (authorization) {
    if (inUrl) throw mixed("Authorization HTTP header and authentication via parameters");
    const [scheme = "", encoded = ""] = authorization.trim().split(/\s+/, 2);
    if (scheme.toLowerCase() !== "basic") {
      throw clickHouseError(
        "AUTHENTICATION_FAILED",
        `Invalid authentication: '${scheme}' HTTP Authorization scheme is not supported`,
      );
    }
    const decoded = Buffer.from(encoded, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon < 0
      ? { user: decoded, password: "" }
      : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { user: url.get("user") ?? "default", password: url.get("password") ?? "" };
}

interface FormField {
  name: string;
  value: string;
  isFile: boolean;
}

function parseMultipart(body: Buffer, contentType: string): FormField[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  const malformed = (): Error => clickHouseError("BAD_ARGUMENTS", "Malformed multipart/form-data body");
  if (!marker) throw malformed();
  const delimiter = Buffer.from(`--${marker}`);
  const separator = Buffer.from(`\r\n--${marker}`);
  const fields: FormField[] = [];
  let position = body.indexOf(delimiter);
  if (position < 0) throw malformed();
  position += delimiter.length;
  while (body.toString("latin1", position, position + 2) !== "--") {
    const headersEnd = body.indexOf("\r\n\r\n", position);
    if (headersEnd < 0) throw malformed();
    const headers = body.toString("utf8", position, headersEnd);
    const contentEnd = body.indexOf(separator, headersEnd + 4);
    if (contentEnd < 0) throw malformed();
    const disposition = /^content-disposition:.*$/im.exec(headers)?.[0] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw malformed();
    fields.push({
      name,
      value: body.toString("utf8", headersEnd + 4, contentEnd),
      isFile: /\bfilename="/i.test(disposition),
    });
    position = contentEnd + separator.length;
  }
  return fields;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return decodeRequestBody(Buffer.concat(chunks), header(req, "content-encoding"));
}

export async function readQueryRequest(req: IncomingMessage, url: URL): Promise<QueryRequest> {
  const search = url.searchParams;
  for (const unsupported of ["compress", "decompress"]) {
    if (flag(search.get(unsupported))) {
      throw clickHouseError(
        "NOT_IMPLEMENTED",
        `${unsupported}=1 (ClickHouse's native block compression) is not supported by this front; use HTTP compression`,
      );
    }
  }
  const body = await readBody(req);
  const contentType = header(req, "content-type") ?? "";
  const multipart = contentType.toLowerCase().startsWith("multipart/form-data");

  let text: Buffer;
  let formFields: Array<readonly [string, string]> = [];
  if (multipart) {
    // Form fields carry the query and its parameters; the body is not query text.
    const fields = parseMultipart(body, contentType);
    if (fields.some((field) => field.isFile)) {
      throw clickHouseError(
        "NOT_IMPLEMENTED",
        "External data (file parts of multipart/form-data) is not supported by this front",
      );
    }
    formFields = fields.map((field) => [field.name, field.value] as const);
    const queries = [
      ...search.getAll("query"),
      ...fields.filter((f) => f.name === "query").map((f) => f.value),
    ];
    text = Buffer.from(queries.join(""));
  } else {
    const query = search.get("query") ?? "";
    text = query === "" ? body : Buffer.concat([Buffer.from(`${query}\n`), body]);
  }

  const settings: Array<readonly [string, string]> = [];
  for (const [name, value] of search) {
    if (name === "" || reserved.has(name) || isQueryParameter(name)) continue;
    // With multipart bodies the server keeps these names for external tables.
    if (multipart && /_(format|types|structure)$/.test(name)) continue;
    settings.push([name, value]);
  }

  const level = Number(search.get("http_zlib_compression_level") ?? 3);
  return {
    readonly: req.method === "GET" || req.method === "HEAD",
    text,
    parameters: collectQueryParameters(search, formFields),
    settings,
    database: header(req, "x-clickhouse-database") || search.get("database") || undefined,
    defaultFormat: header(req, "x-clickhouse-format") || search.get("default_format") || undefined,
    queryId: search.get("query_id") || header(req, "x-clickhouse-query-id") || randomUUID(),
    session: sessionOptions(search),
    credentials: credentials(req, search),
    responseEncoding: flag(search.get("enable_http_compression"))
      ? chooseResponseEncoding(header(req, "accept-encoding"))
      : undefined,
    compressionLevel: Number.isInteger(level) ? Math.min(9, Math.max(1, level)) : 3,
  };
}
