import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * What the page may load: only its own files and WebSockets. No inline script or style is
 * allowed, so even markup that slipped into the page could run nothing; no form may be sent
 * anywhere (the token stays out of every URL), and no other site may frame the page.
 */
export const INBOX_PAGE_CSP =
  "default-src 'self'; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The page's files, by the path each is served at. */
const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/inbox.js": { file: "inbox.js", type: "text/javascript; charset=utf-8" },
  "/inbox.css": { file: "inbox.css", type: "text/css; charset=utf-8" },
};

export type InboxPageHandler = (
  request: IncomingMessage | Http2ServerRequest,
  response: ServerResponse | Http2ServerResponse,
) => boolean;

/**
 * The in-app inbox page (gateway-ws/page/), read once and served by the gateway's HTTP server
 * on GET and HEAD: the handler answers true when it served the request, false for any other.
 */
export function createInboxPage(): InboxPageHandler {
  const dir = pageDir();
  const pages = new Map(
    Object.entries(FILES).map(([path, { file, type }]) => [
      path,
      { type, body: readFileSync(join(dir, file)) },
    ]),
  );
  return (request, response) => {
    if (request.method !== "GET" && request.method !== "HEAD") return false;
    const page = pages.get((request.url ?? "/").split("?", 1)[0] ?? "");
    if (!page) return false;
    response.statusCode = 200;
    response.setHeader("content-type", page.type);
    response.setHeader("content-length", page.body.length);
    response.setHeader("content-security-policy", INBOX_PAGE_CSP);
    response.setHeader("x-content-type-options", "nosniff");
    response.setHeader("referrer-policy", "no-referrer");
    // Small files, read again on every load, so a page open across a deploy takes the new ones.
    response.setHeader("cache-control", "no-cache");
    response.end(page.body);
    return true;
  };
}

/** The page's folder: beside this module in the sources, and in the sources too when run from dist/. */
function pageDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "page"), join(here, "..", "..", "gateway-ws", "page")];
  const found = candidates.find((dir) => existsSync(join(dir, "index.html")));
  if (!found) throw new Error(`the inbox page is in none of ${candidates.join(", ")}`);
  return found;
}
