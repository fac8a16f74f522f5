import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { escapeHtml, HttpError, listen, readJson, sendHtml, sendJson, stop } from "./peer-http.ts";
import type { ReceivedItems } from "./received-log.ts";

/** Answers one request; what it throws is answered as `{"error": …}`, with its status if an HttpError. */
export type PageHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

/** A path of the peer's own beside the page's: its handlers by method, or one for every method (a vendor's API). */
export type PageRoute = Record<string, PageHandler> | PageHandler;

/** What a peer's page shows of it and may change. */
export interface PeerPage<T> {
  /** The page's heading, e.g. "SMTP peer". */
  title: string;
  columns: readonly string[];
  /** One message as plain text, a cell per column: the page escapes it. */
  row(message: T): string[];
  /** What arrived (listed newest first), and what `DELETE /messages` forgets. */
  received: Pick<ReceivedItems<T>, "messages" | "clear">;
  /** The fault in force; `set` takes what came over HTTP and throws what is wrong with it. */
  faults: { get(): unknown; set(value: unknown): unknown };
  /** The peer's own paths, e.g. push's `POST /gone`, an SMS vendor's API. */
  routes?: Record<string, PageRoute>;
}

// What the page is sent is a fault or a token, a few fields: anything longer is not one.
const MAX_PAGE_BODY_BYTES = 4096;

/**
 * A request listener for `page`: `GET /` lists what arrived, `GET` and `DELETE /messages`,
 * `GET` and `POST /fault`, and the peer's own routes; 405 with Allow for a method a path does
 * not take, 404 naming the paths there are.
 */
export function peerPageListener<T>(
  page: PeerPage<T>,
): (request: IncomingMessage, response: ServerResponse) => void {
  const routes: Record<string, PageRoute> = {
    ...page.routes,
    "/": { GET: (_request, response) => sendHtml(response, html(page)) },
    "/messages": {
      GET: (_request, response) => sendJson(response, 200, page.received.messages()),
      DELETE: (_request, response) => {
        page.received.clear();
        response.writeHead(204).end();
      },
    },
    "/fault": {
      GET: (_request, response) => sendJson(response, 200, page.faults.get()),
      POST: async (request, response) => {
        await readPageJson(request, (value) => page.faults.set(value));
        sendJson(response, 200, page.faults.get());
      },
    },
  };
  return (request, response) => {
    route(routes, request, response).catch((error: unknown) => {
      if (response.headersSent) return;
      const status = error instanceof HttpError ? error.status : 500;
      sendJson(response, status, { error: error instanceof Error ? error.message : String(error) });
    });
  };
}

/** `page` on a plain HTTP port of its own. */
export async function servePeerPage<T>(
  page: PeerPage<T>,
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(peerPageListener(page));
  const taken = await listen(server, port, host);
  return { url: `http://${host}:${taken}`, close: () => stop(server) };
}

/** A page request's JSON body through `parse`, what `parse` throws answered 400. */
export async function readPageJson<V>(request: IncomingMessage, parse: (value: unknown) => V): Promise<V> {
  const body = await readJson(request, MAX_PAGE_BODY_BYTES);
  try {
    return parse(body);
  } catch (error) {
    throw new HttpError(400, error instanceof Error ? error.message : String(error));
  }
}

async function route(
  routes: Record<string, PageRoute>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = new URL(request.url ?? "/", "http://peer").pathname;
  const found = routes[path];
  if (found === undefined) {
    const paths = Object.keys(routes);
    throw new HttpError(404, `no ${path} here: try ${paths.slice(0, -1).join(", ")} or ${paths.at(-1)}`);
  }
  if (typeof found === "function") return found(request, response);
  const handler = found[request.method ?? "GET"];
  if (handler === undefined) {
    const allowed = Object.keys(found).join(", ");
    response.setHeader("allow", allowed);
    throw new HttpError(405, `${path} takes ${allowed}`);
  }
  return handler(request, response);
}

function html<T>(page: PeerPage<T>): string {
  const messages = page.received.messages().reverse();
  const head = page.columns.map((column) => `<th>${escapeHtml(column)}</th>`).join("");
  const rows = messages
    .map(
      (message) =>
        `<tr>${page
          .row(message)
          .map((cell) => `<td>${escapeHtml(cell)}</td>`)
          .join("")}</tr>`,
    )
    .join("\n");
  const title = escapeHtml(page.title);
  // Cells keep their line breaks: an SMS or a body may have several lines.
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left;vertical-align:top}td{white-space:pre-wrap}</style></head>
<body>
<h1>${title}</h1>
<p>${messages.length} message(s), newest first; fault: ${escapeHtml(JSON.stringify(page.faults.get()))}</p>
<table>
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
