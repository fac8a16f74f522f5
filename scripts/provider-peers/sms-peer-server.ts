import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import { setTimeout as delay } from "node:timers/promises";
import type { SmsEncoding } from "../../dispatch/providers/sms-text.ts";
import { type FaultControls, FaultSwitch } from "./peer-fault.ts";
import { listen, readBody, stop } from "./peer-http.ts";
import { type PageRoute, peerPageListener } from "./peer-page.ts";
import type { ReceivedLog } from "./received-log.ts";
import { type SelfSignedCertificate, selfSignedCertificate } from "./self-signed.ts";
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

/** What every SMS peer takes besides its vendor's own. */
export interface SmsPeerOptions {
  /** 127.0.0.1 unless told otherwise: the peer keeps numbers and texts in clear. */
  host?: string;
  /** 0 (the default) takes a free port. */
  port?: number;
  /** The key and certificate presented; a fresh self-signed pair by default. */
  tls?: SelfSignedCertificate;
  /** How many accepted SMS are kept; the oldest go first. */
  remember?: number;
  /** Told of failed connections (a client that distrusts the certificate, one that hangs up). */
  onError?: (error: Error) => void;
}

export interface SmsPeerServerOptions<T extends ReceivedSms> {
  /** The page's heading, e.g. "SMS.ru peer". */
  title: string;
  options: SmsPeerOptions;
  /** The vendor's API by path; faults apply there and nowhere else. */
  api: Record<string, ApiHandler>;
  received: ReceivedLog<T>;
}

export interface SmsPeerServer extends FaultControls<SmsFault> {
  readonly host: string;
  readonly port: number;
  /** https://host:port: the vendor's API and, beside it, the page. */
  readonly url: string;
  /** The certificate presented: what a client trusts to reach the peer. */
  readonly ca: string;
  /** Cuts every open connection, hanging requests included, and stops. */
  close(): Promise<void>;
}

// The vendors' requests are one text of at most a few thousand characters, escaped.
const MAX_REQUEST_BYTES = 64 * 1024;
const DEFAULT_RETRY_AFTER_SECONDS = 30;

/**
 * A vendor's HTTPS API on a local port, with its faults and the peer's page beside it: `GET /`
 * (what arrived, for a person), `GET` and `DELETE /messages`, `GET` and `POST /fault`.
 */
export async function startSmsPeerServer<T extends ReceivedSms>({
  title,
  options,
  api: vendorApi,
  received,
}: SmsPeerServerOptions<T>): Promise<SmsPeerServer> {
  const host = options.host ?? "127.0.0.1";
  const certificate = options.tls ?? (await selfSignedCertificate());
  const faults = new FaultSwitch(smsFault);
  const api: Record<string, PageRoute> = Object.fromEntries(
    Object.entries(vendorApi).map(([path, handler]) => [
      path,
      (request: IncomingMessage, response: ServerResponse) => answer(handler, request, response),
    ]),
  );
  const server = createServer(
    { key: certificate.key, cert: certificate.cert },
    peerPageListener({
      title,
      columns: ["received", "id", "to", "sender", "text", "SMS"],
      row: (sms: T) => [
        sms.receivedAt,
        sms.id,
        sms.to,
        sms.sender ?? "",
        sms.text,
        `${sms.encoding} × ${sms.segments}`,
      ],
      received: received.asReceivedItems(),
      faults,
      routes: api,
    }),
  );
  server.on("tlsClientError", (error) => options.onError?.(error));

  async function answer(
    handler: ApiHandler,
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
    const search = new URL(request.url ?? "/", "https://peer").search;
    const result = await handler(FormFields.parse(search.slice(1), body), current);
    response
      .writeHead(result.status ?? 200, {
        "content-type": result.contentType ?? "application/json; charset=utf-8",
      })
      .end(result.body);
  }

  const port = await listen(server, options.port ?? 0, host);
  return {
    host,
    port,
    url: `https://${host}:${port}`,
    ca: certificate.cert,
    ...faults.asFaultControls(),
    close: () => stop(server),
  };
}
