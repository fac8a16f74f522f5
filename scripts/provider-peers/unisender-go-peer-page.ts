import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { escapeHtml, HttpError, listen, readJson, sendHtml, sendJson, stop } from "./peer-http.ts";
import { type UnisenderGoFault, unisenderGoFault } from "./unisender-go-fault.ts";
import type { ReceivedUnisenderGoMessage, UnisenderGoWebhookCall } from "./unisender-go-peer.ts";

/** What the page shows of its peer and what it may change. */
export interface PagedUnisenderGoPeer {
  messages(): ReceivedUnisenderGoMessage[];
  webhookCalls(): UnisenderGoWebhookCall[];
  clear(): void;
  fault(): UnisenderGoFault;
  setFault(fault: UnisenderGoFault): void;
}

// A fault is a few fields: anything longer is not one.
const MAX_FAULT_BYTES = 4096;
const ROUTES: Record<string, string> = {
  "/": "GET",
  "/messages": "GET, DELETE",
  "/webhooks": "GET",
  "/fault": "GET, POST",
};

/** The Unisender Go peer's page, plain HTTP: what it took and what its webhook was told, and its fault switch. */
export async function serveUnisenderGoPage(
  peer: PagedUnisenderGoPeer,
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    route(peer, request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      sendJson(response, status, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  const taken = await listen(server, port, host);
  return { url: `http://${host}:${taken}`, close: () => stop(server) };
}

async function route(
  peer: PagedUnisenderGoPeer,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = new URL(request.url ?? "/", "http://peer").pathname;
  const method = request.method ?? "GET";
  if (path === "/" && method === "GET") return sendHtml(response, page(peer));
  if (path === "/messages" && method === "GET") return sendJson(response, 200, peer.messages());
  if (path === "/messages" && method === "DELETE") {
    peer.clear();
    response.writeHead(204).end();
    return;
  }
  if (path === "/webhooks" && method === "GET") return sendJson(response, 200, peer.webhookCalls());
  if (path === "/fault" && method === "GET") return sendJson(response, 200, peer.fault());
  if (path === "/fault" && method === "POST") {
    const body = await readJson(request, MAX_FAULT_BYTES);
    try {
      peer.setFault(unisenderGoFault(body));
    } catch (error) {
      throw new HttpError(400, error instanceof Error ? error.message : String(error));
    }
    return sendJson(response, 200, peer.fault());
  }
  const allowed = ROUTES[path];
  if (allowed) {
    response.setHeader("allow", allowed);
    throw new HttpError(405, `${path} takes ${allowed}`);
  }
  throw new HttpError(404, `no ${path} here: try /, /messages, /webhooks or /fault`);
}

function page(peer: PagedUnisenderGoPeer): string {
  const messages = peer.messages().reverse();
  const calls = peer.webhookCalls();
  const rows = messages
    .map((message) => {
      const refused = Object.entries(message.failedEmails).map(([email, code]) => `${email}: ${code}`);
      const last = calls.filter((call) => call.jobId === message.jobId).at(-1);
      const webhook = last ? `try ${last.attempt}: ${last.status ?? last.error ?? ""}` : "";
      const cells = [
        message.receivedAt,
        message.jobId,
        message.message.recipients.map((recipient) => recipient.email).join(", "),
        message.message.subject,
        refused.join(", "),
        webhook,
      ];
      return `<tr>${cells.map((cell) => `<td>${escapeHtml(String(cell))}</td>`).join("")}</tr>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Unisender Go peer</title>
<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}</style></head>
<body>
<h1>Unisender Go peer</h1>
<p>${messages.length} message(s), newest first; fault: ${escapeHtml(JSON.stringify(peer.fault()))}</p>
<table>
<thead><tr><th>received</th><th>job</th><th>to</th><th>subject</th><th>failed</th><th>webhook</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
