// ClickHouse's HTTP interface in front of the embedded engine (chdb), for local
// development and tests where no server binary is available: the service talks
// to it with @clickhouse/client exactly as it talks to a real server.
//
//   node scripts/clickhouse-http/server.ts
//
// CLICKHOUSE_PORT (58123), CLICKHOUSE_DATA_DIR (.local/clickhouse/data),
// CLICKHOUSE_USER (default) and CLICKHOUSE_PASSWORD (empty) configure it; it
// listens on 127.0.0.1 only and logs one JSON object per line to stdout.

import { createHash, timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { encodeResponseBody } from "./encoding.ts";
import { Engine, type Outcome } from "./engine.ts";
import {
  ClickHouseException,
  clickHouseError,
  errorBody,
  httpStatus,
  toClickHouseException,
} from "./errors.ts";
import { execute } from "./execute.ts";
import { type Credentials, type QueryRequest, readQueryRequest } from "./request.ts";
import { Sessions } from "./sessions.ts";
import { hasOutput, inspectStatement, type Statement } from "./sql.ts";

function log(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}

const port = Number(process.env.CLICKHOUSE_PORT ?? 58123);
const dataDir =
  process.env.CLICKHOUSE_DATA_DIR ?? fileURLToPath(new URL("../../.local/clickhouse/data", import.meta.url));
const user = process.env.CLICKHOUSE_USER || "default";
const password = process.env.CLICKHOUSE_PASSWORD ?? "";
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  log("error", "invalid CLICKHOUSE_PORT", { value: process.env.CLICKHOUSE_PORT });
  process.exit(2);
}

mkdirSync(dataDir, { recursive: true });
// chdb prints the engine's reason (e.g. another instance holds the directory) to
// stderr and throws a generic error.
const engine = await Engine.open(dataDir).catch((error: unknown) => {
  log("error", "cannot open the engine", { data_dir: dataDir, error: String(error) });
  process.exit(1);
});
const sessions = new Sessions();
const displayName = hostname();
const plainText = "text/plain; charset=UTF-8";
const okay = Buffer.from("Ok.\n");
const readonlyOverGet =
  "For queries over HTTP, method GET implies readonly. You should use method POST for modifying queries";
// Only the statement is inspected, never the data of a large INSERT; 4 times the
// server's default max_query_size, so any statement it accepts fits.
const inspectedBytes = 1024 * 1024;

// Hashing first lets timingSafeEqual compare secrets of different lengths.
const digest = (secret: string): Buffer => createHash("sha256").update(secret).digest();
const passwordDigest = digest(password);

function authenticate(credentials: Credentials): void {
  const known = credentials.user === user;
  if (!timingSafeEqual(digest(credentials.password), passwordDigest) || !known) {
    throw clickHouseError(
      "AUTHENTICATION_FAILED",
      `${credentials.user}: Authentication failed: password is incorrect, or there is no user with such name`,
    );
  }
}

function timezoneOf(request: QueryRequest): string {
  return request.settings.findLast(([name]) => name === "session_timezone")?.[1] || engine.timezone;
}

async function send(
  res: ServerResponse,
  method: string,
  status: number,
  headers: OutgoingHttpHeaders,
  body: Buffer,
  request: QueryRequest | undefined,
): Promise<number> {
  let payload = body;
  if (request?.responseEncoding) {
    payload = await encodeResponseBody(body, request.responseEncoding, request.compressionLevel);
    headers["Content-Encoding"] = request.responseEncoding;
  }
  headers["Content-Length"] = payload.length;
  res.writeHead(status, { "X-ClickHouse-Server-Display-Name": displayName, ...headers });
  res.end(method === "HEAD" ? undefined : payload);
  return payload.length;
}

function summary(result: Outcome): string {
  // chdb reports neither result rows nor result bytes.
  return JSON.stringify({
    read_rows: String(result.readRows),
    read_bytes: String(result.readBytes),
    written_rows: String(result.writtenRows),
    written_bytes: String(result.writtenBytes),
    total_rows_to_read: String(result.readRows),
    result_rows: "0",
    result_bytes: "0",
    elapsed_ns: String(result.elapsedNs),
  });
}

async function handleQuery(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  method: string,
): Promise<void> {
  const started = performance.now();
  let request: QueryRequest | undefined;
  let statement: Statement | undefined;
  try {
    request = await readQueryRequest(req, url);
    authenticate(request.credentials);
    statement = inspectStatement(
      request.text.toString("latin1", 0, inspectedBytes),
      (name) => engine.outputFormat(name)?.name,
    );
    const result = await execute(engine, sessions, request, statement);
    const output = hasOutput(statement) || result.output.length > 0;
    const format = statement.format ?? request.defaultFormat ?? "TabSeparated";
    const headers: OutgoingHttpHeaders = {
      "Content-Type": output ? (engine.outputFormat(format)?.contentType ?? plainText) : plainText,
      "X-ClickHouse-Query-Id": request.queryId,
      "X-ClickHouse-Timezone": timezoneOf(request),
      "X-ClickHouse-Summary": summary(result),
    };
    if (output) headers["X-ClickHouse-Format"] = format;
    const bytes = await send(res, method, 200, headers, result.output, request);
    log("info", "query", {
      query_id: request.queryId,
      session_id: request.session?.id,
      method,
      statement: statement.kind,
      status: 200,
      ms: Math.round(performance.now() - started),
      read_rows: result.readRows,
      written_rows: result.writtenRows,
      response_bytes: bytes,
    });
  } catch (caught) {
    let error: ClickHouseException = toClickHouseException(caught);
    if (error.type === "READONLY" && request?.readonly && !request.session) {
      // The engine does not know it serves HTTP; the server's message says why.
      error = new ClickHouseException(error.code, error.type, `${error.message}. ${readonlyOverGet}`);
    }
    const status = httpStatus(error);
    const headers: OutgoingHttpHeaders = {
      "Content-Type": plainText,
      "X-ClickHouse-Exception-Code": String(error.code),
    };
    if (request) {
      headers["X-ClickHouse-Query-Id"] = request.queryId;
      headers["X-ClickHouse-Timezone"] = timezoneOf(request);
    }
    if (!req.readableEnded) req.resume();
    await send(res, method, status, headers, Buffer.from(errorBody(error, engine.version)), request);
    // Error messages can quote query text and data, so only the code goes to the log.
    log(status >= 500 ? "error" : "warn", "query failed", {
      query_id: request?.queryId,
      session_id: request?.session?.id,
      method,
      statement: statement?.kind,
      status,
      code: error.code,
      error: error.type,
      ms: Math.round(performance.now() - started),
    });
  }
}

const server = createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const method = req.method ?? "GET";
  const readOnly = method === "GET" || method === "HEAD";
  const health =
    url.pathname === "/ping" ||
    url.pathname === "/replicas_status" ||
    (url.pathname === "/" && url.search === "");
  if (readOnly && health) {
    res.writeHead(200, { "Content-Type": plainText, "Content-Length": okay.length });
    res.end(method === "HEAD" ? undefined : okay);
  } else if (url.pathname === "/" && (readOnly || method === "POST")) {
    handleQuery(req, res, url, method).catch((error: unknown) => {
      log("error", "response failed", { error: String(error) });
      res.destroy();
    });
  } else {
    const text = `There is no handle ${url.pathname}\n\nUse / or /ping for health checks.\nSend queries with POST method or GET /?query=...\n`;
    res.writeHead(404, { "Content-Type": plainText });
    res.end(text);
  }
});
// ClickHouse's keep_alive_timeout; the client reads it from the Keep-Alive header.
server.keepAliveTimeout = 10_000;

server.on("error", (error) => {
  log("error", "cannot listen", { port, error: error.message });
  process.exit(1);
});
server.listen(port, "127.0.0.1", () => {
  log("info", "listening", {
    address: `http://127.0.0.1:${port}`,
    data_dir: dataDir,
    engine: engine.version,
    // Since the process started, loading chdb included.
    startup_ms: Math.round(performance.now()),
  });
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log("info", "stopping", { signal });
  setTimeout(() => process.exit(1), 10_000).unref();
  server.close();
  server.closeIdleConnections();
  await engine.exclusive(async () => undefined);
  sessions.closeAll();
  engine.close();
  log("info", "stopped");
  process.exit(0);
}
process.once("SIGTERM", () => void stop("SIGTERM"));
process.once("SIGINT", () => void stop("SIGINT"));
