import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type SmtpFault, smtpFault } from "./smtp-fault.ts";
import type { ReceivedEmail } from "./smtp-peer.ts";

/** What the page shows of its peer and what it may change. */
export interface PagedPeer {
  messages(): ReceivedEmail[];
  clear(): void;
  fault(): SmtpFault;
  setFault(fault: SmtpFault): void;
}

export interface PeerPage {
  url: string;
  close(): Promise<void>;
}

// A fault is a few fields: anything longer is not one.
const MAX_BODY_BYTES = 4096;

class PageError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The SMTP peer's HTTP page: what it received, for a person or a test, and its fault switch. */
export async function servePeerPage(peer: PagedPeer, host: string, port: number): Promise<PeerPage> {
  const server = createServer((request, response) => {
    route(peer, request, response).catch((error: unknown) => {
      const status = error instanceof PageError ? error.status : 500;
      json(response, status, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string")
    throw new Error("the peer's page is not on a TCP port");
  return {
    url: `http://${host}:${address.port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

async function route(peer: PagedPeer, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? "/", "http://peer").pathname;
  const method = request.method ?? "GET";
  if (path === "/" && method === "GET") return html(response, page(peer));
  if (path === "/messages" && method === "GET") return json(response, 200, peer.messages());
  if (path === "/messages" && method === "DELETE") {
    peer.clear();
    response.writeHead(204).end();
    return;
  }
  if (path === "/fault" && method === "GET") return json(response, 200, peer.fault());
  if (path === "/fault" && method === "POST") {
    let fault: SmtpFault;
    try {
      fault = smtpFault(await readJson(request));
    } catch (error) {
      if (error instanceof PageError) throw error;
      throw new PageError(400, error instanceof Error ? error.message : String(error));
    }
    peer.setFault(fault);
    return json(response, 200, peer.fault());
  }
  const allowed = { "/": "GET", "/messages": "GET, DELETE", "/fault": "GET, POST" }[path];
  if (allowed) {
    response.setHeader("allow", allowed);
    throw new PageError(405, `${path} takes ${allowed}`);
  }
  throw new PageError(404, `no ${path} here: try /, /messages or /fault`);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new PageError(413, `a fault fits in ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new PageError(400, "the body is not JSON");
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
}

function html(response: ServerResponse, body: string): void {
  response
    .writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      // What a message carries is shown, never run, even if escaping were ever missed.
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
      "x-content-type-options": "nosniff",
    })
    .end(body);
}

function page(peer: PagedPeer): string {
  const messages = peer.messages().reverse();
  const rows = messages
    .map(
      (message) =>
        `<tr><td>${escapeHtml(message.receivedAt)}</td><td>${escapeHtml(message.envelope.to.join(", "))}</td>` +
        `<td>${escapeHtml(message.subject)}</td><td>${message.secure ? "TLS" : "plain"}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>SMTP peer</title>
<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}</style></head>
<body>
<h1>SMTP peer</h1>
<p>${messages.length} message(s), newest first; fault: ${escapeHtml(JSON.stringify(peer.fault()))}</p>
<table>
<thead><tr><th>received</th><th>to</th><th>subject</th><th>session</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}
