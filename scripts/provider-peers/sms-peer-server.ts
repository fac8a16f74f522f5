import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import { setTimeout as delay } from "node:timers/promises";
import type { SmsEncoding } from "../../dispatch/providers/sms-text.ts";
import { type FaultControls, FaultSwitch } from "./peer-fault.ts";
import type { ReceivedLog } from "./received-log.ts";
import type { SelfSignedCertificate } from "./self-signed.ts";
import { type SmsFault, smsFault } from "./sms-fault.ts";
import { FormFields } from "./sms-form.ts";

/** What an SMS peer keeps of each SMS it accepted, and its page shows. */
export interface ReceivedSms {
  /** The vendor's id for it, as its answer gave it. */
  id: string;
  receivedAt: string;
  /** The number's digits, without "+". */
  to: string;
  text: string;
  sender: string | undefined;
  /** As the operator would carry it, and the SMS it takes (what the vendor bills). */
  encoding: SmsEncoding;
  segments: number;
}

/** An answer of the vendor's API: JSON unless the handler says otherwise. */
export interface PeerAnswer {
  status?: number;
  contentType?: string;
  body: string;
}

/** One method of the vendor's API: the request's parameters, and the fault in force. */
export type ApiHandler = (fields: FormFields, fault: SmsFault) => PeerAnswer | Promise<PeerAnswer>;

export interface SmsPeerServerOptions<T extends ReceivedSms> {
  /** The page's heading, e.g. "SMS.ru peer". */
  title: string;
  host: string;
  port: number;
  certificate: SelfSignedCertificate;
  /** The vendor's API by path; faults apply there and nowhere else. */
  api: Record<string, ApiHandler>;
  received: ReceivedLog<T>;
  /** Told of failed connections (a client that distrusts the certificate, one that hangs up). */
  onError?: (error: Error) => void;
}

export interface SmsPeerServer extends FaultControls<SmsFault> {
  readonly host: string;
  readonly port: number;
  /** https://host:port: the vendor's API and, beside it, the page. */
  readonly url: string;
  /** Cuts every open connection, hanging requests included, and stops. */
  close(): Promise<void>;
}

// The vendors' requests are one text of at most a few thousand characters, escaped.
const MAX_REQUEST_BYTES = 64 * 1024;
// A fault is a few fields: anything longer is not one.
const MAX_FAULT_BYTES = 4096;
const DEFAULT_RETRY_AFTER_SECONDS = 30;

class PageError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * A vendor's HTTPS API on a local port, with its faults and a page beside it: `GET /` (what
 * arrived, for a person), `GET` and `DELETE /messages`, `GET` and `POST /fault`.
 */
export async function startSmsPeerServer<T extends ReceivedSms>(
  options: SmsPeerServerOptions<T>,
): Promise<SmsPeerServer> {
  const faults = new FaultSwitch(smsFault);
  const server = createServer(
    { key: options.certificate.key, cert: options.certificate.cert },
    (request, response) => {
      route(request, response).catch((error: unknown) => {
        if (response.headersSent) return;
        const status = error instanceof PageError ? error.status : 500;
        json(response, status, { error: error instanceof Error ? error.message : String(error) });
      });
    },
  );
  server.on("tlsClientError", (error) => options.onError?.(error));

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "https://peer");
    const method = request.method ?? "GET";
    const handler = options.api[url.pathname];
    if (handler) return api(handler, url, request, response);
    if (url.pathname === "/" && method === "GET")
      return html(response, page(options.title, options.received, faults.get()));
    if (url.pathname === "/messages" && method === "GET") return json(response, 200, options.received.all());
    if (url.pathname === "/messages" && method === "DELETE") {
      options.received.clear();
      response.writeHead(204).end();
      return;
    }
    if (url.pathname === "/fault" && method === "GET") return json(response, 200, faults.get());
    if (url.pathname === "/fault" && method === "POST") {
      let body: unknown;
      try {
        body = JSON.parse((await readBody(request, MAX_FAULT_BYTES)).toString("utf8"));
      } catch (error) {
        if (error instanceof PageError) throw error;
        throw new PageError(400, "the body is not JSON");
      }
      try {
        faults.set(body);
      } catch (error) {
        throw new PageError(400, error instanceof Error ? error.message : String(error));
      }
      return json(response, 200, faults.get());
    }
    const allowed = { "/": "GET", "/messages": "GET, DELETE", "/fault": "GET, POST" }[url.pathname];
    if (allowed) {
      response.setHeader("allow", allowed);
      throw new PageError(405, `${url.pathname} takes ${allowed}`);
    }
    throw new PageError(
      404,
      `no ${url.pathname} here: try ${Object.keys(options.api).join(", ")}, /, /messages or /fault`,
    );
  }

  async function api(
    handler: ApiHandler,
    url: URL,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const body = await readBody(request, MAX_REQUEST_BYTES);
    const current = faults.get();
    if (current.mode === "slow") await delay(current.delayMs ?? 0);
    // Left unanswered: close() cuts the connection.
    if (current.mode === "hang") return;
    if (current.mode === "drop") {
      request.socket.destroy();
      return;
    }
    if (current.mode === "5xx") {
      response
        .writeHead(503, { "content-type": "text/html" })
        .end("<html><head><title>503 Service Temporarily Unavailable</title></head><body></body></html>\n");
      return;
    }
    if (current.mode === "rate-limit") {
      response
        .writeHead(429, {
          "content-type": "text/plain",
          "retry-after": String(current.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS),
        })
        .end("Too Many Requests\n");
      return;
    }
    const answer = await handler(FormFields.parse(url.search.slice(1), body), current);
    response
      .writeHead(answer.status ?? 200, {
        "content-type": answer.contentType ?? "application/json; charset=utf-8",
      })
      .end(answer.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string")
    throw new Error(`the ${options.title} is not on a TCP port`);
  return {
    host: options.host,
    port: address.port,
    url: `https://${options.host}:${address.port}`,
    ...faults.asFaultControls(),
    close: () => {
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      server.closeAllConnections();
      return closed;
    },
  };
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new PageError(413, `a request fits in ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
}

function html(response: ServerResponse, body: string): void {
  response
    .writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      // What an SMS carries is shown, never run, even if escaping were ever missed.
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
      "x-content-type-options": "nosniff",
    })
    .end(body);
}

function page<T extends ReceivedSms>(title: string, log: ReceivedLog<T>, fault: SmsFault): string {
  const received = log.all().reverse();
  const rows = received
    .map((sms) =>
      [sms.receivedAt, sms.id, sms.to, sms.sender ?? "", sms.text, `${sms.encoding} × ${sms.segments}`]
        .map((cell) => `<td>${escapeHtml(cell)}</td>`)
        .join(""),
    )
    .map((cells) => `<tr>${cells}</tr>`)
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left;vertical-align:top}td:nth-child(5){white-space:pre-wrap}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${received.length} SMS, newest first; fault: ${escapeHtml(JSON.stringify(fault))}</p>
<table>
<thead><tr><th>received</th><th>id</th><th>to</th><th>sender</th><th>text</th><th>SMS</th></tr></thead>
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
