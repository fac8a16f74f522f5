import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { escapeHtml, HttpError, listen, readJson, sendHtml, sendJson, stop } from "./peer-http.ts";
import { type PushFault, pushFault } from "./push-fault.ts";

/** What a push peer's page shows and may change. */
export interface PagedPushPeer {
  /** The page's heading, e.g. "FCM peer". */
  title: string;
  columns: readonly string[];
  /** One row of plain text per message, newest first, under `columns`. */
  rows(): string[][];
  messages(): unknown[];
  clear(): void;
  fault(): PushFault;
  setFault(fault: PushFault): void;
  /** The device token is gone from now on, as when the app was removed. */
  markGone(token: string): void;
}

export interface PeerPage {
  url: string;
  close(): Promise<void>;
}

// A fault or a token is a few fields: anything longer is not one.
const MAX_PAGE_BODY_BYTES = 4096;

/**
 * The body, or undefined when it passes `maxBytes`, each caller answering that as its vendor
 * does. The rest is read and dropped rather than left unread: breaking off would destroy the
 * stream, and with it the answer.
 */
export async function readLimited(
  body: AsyncIterable<Buffer>,
  maxBytes: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  }
  return size <= maxBytes ? Buffer.concat(chunks) : undefined;
}

/**
 * A push peer's plain-HTTP page: `GET /` lists what arrived, `GET` and `DELETE /messages`,
 * `GET` and `POST /fault`, and `POST /gone` with `{"token": …}` to mark a device token dead.
 */
export async function servePushPeerPage(peer: PagedPushPeer, host: string, port: number): Promise<PeerPage> {
  const server = createServer((request, response) => {
    route(peer, request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      sendJson(response, status, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  const taken = await listen(server, port, host);
  return { url: `http://${host}:${taken}`, close: () => stop(server) };
}

async function route(peer: PagedPushPeer, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? "/", "http://peer").pathname;
  const method = request.method ?? "GET";
  if (path === "/" && method === "GET") return sendHtml(response, page(peer));
  if (path === "/messages" && method === "GET") return sendJson(response, 200, peer.messages());
  if (path === "/messages" && method === "DELETE") {
    peer.clear();
    response.writeHead(204).end();
    return;
  }
  if (path === "/fault" && method === "GET") return sendJson(response, 200, peer.fault());
  if (path === "/fault" && method === "POST") {
    peer.setFault(parsed(pushFault, await readJson(request, MAX_PAGE_BODY_BYTES)));
    return sendJson(response, 200, peer.fault());
  }
  if (path === "/gone" && method === "POST") {
    peer.markGone(parsed(tokenOf, await readJson(request, MAX_PAGE_BODY_BYTES)));
    response.writeHead(204).end();
    return;
  }
  const allowed = { "/": "GET", "/messages": "GET, DELETE", "/fault": "GET, POST", "/gone": "POST" }[path];
  if (allowed) {
    response.setHeader("allow", allowed);
    throw new HttpError(405, `${path} takes ${allowed}`);
  }
  throw new HttpError(404, `no ${path} here: try /, /messages, /fault or /gone`);
}

function tokenOf(value: unknown): string {
  const token = (value as { token?: unknown } | null)?.token;
  if (typeof token !== "string" || token === "") throw new Error('the body is {"token": "<device token>"}');
  return token;
}

function parsed<T>(parse: (value: unknown) => T, value: unknown): T {
  try {
    return parse(value);
  } catch (error) {
    throw new HttpError(400, error instanceof Error ? error.message : String(error));
  }
}

function page(peer: PagedPushPeer): string {
  const rows = peer.rows();
  const head = peer.columns.map((column) => `<th>${escapeHtml(column)}</th>`).join("");
  const body = rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`)
    .join("\n");
  const title = escapeHtml(peer.title);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left;vertical-align:top}</style></head>
<body>
<h1>${title}</h1>
<p>${rows.length} message(s), newest first; fault: ${escapeHtml(JSON.stringify(peer.fault()))}</p>
<table>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table>
</body>
</html>
`;
}
