import { createHash, randomBytes } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { setTimeout as delay } from "node:timers/promises";
import { type FaultControls, FaultSwitch } from "./peer-fault.ts";
import { closingOnFailure, HttpError, listen, readBody, sendJson, stop } from "./peer-http.ts";
import { servePeerPage } from "./peer-page.ts";
import { type ReceivedItems, ReceivedLog } from "./received-log.ts";
import { selfSignedCertificate } from "./self-signed.ts";
import { type UnisenderGoFault, unisenderGoFault } from "./unisender-go-fault.ts";
import { type UnisenderGoSendMessage, validSendRequest } from "./unisender-go-send-request.ts";

/** What email/send.json puts in failed_emails for an address it does not send to. */
export type UnisenderGoFailedEmailCode =
  | "invalid"
  | "duplicate"
  | "temporary_unavailable"
  | "permanent_unavailable"
  | "unsubscribed"
  | "complained"
  | "blocked";

/** The final status the peer's webhook reports for an address it accepted. */
export type UnisenderGoFinalStatus = "delivered" | "soft_bounced" | "hard_bounced" | "spam" | "unsubscribed";

/** One message the peer accepted, as it came and as it was answered. */
export interface ReceivedUnisenderGoMessage {
  jobId: string;
  receivedAt: string;
  /** The request's `message`, as the API takes it (snake_case), after the peer checked it. */
  message: UnisenderGoSendMessage;
  /** The answer: the addresses taken, and the ones refused with their codes. */
  emails: string[];
  failedEmails: Record<string, UnisenderGoFailedEmailCode>;
}

/** One POST of the peer to the webhook, and what came of it. */
export interface UnisenderGoWebhookCall {
  jobId: string;
  /** 1 for the first try; Unisender Go tries again until it is answered 200. */
  attempt: number;
  at: string;
  /** The signed body, exactly as sent. */
  body: string;
  /** The webhook's HTTP status, when it answered. */
  status?: number;
  /** Why there was no answer: refused, timed out. */
  error?: string;
}

export interface UnisenderGoPeerOptions {
  /** The only key email/send accepts (in X-API-KEY or the body's api_key); it also signs the webhook calls. */
  apiKey: string;
  /** 127.0.0.1 unless told otherwise: the peer keeps bodies in clear. */
  host?: string;
  /** 0 (the default) takes a free port. */
  port?: number;
  /** The HTML page's port, plain HTTP; 0 (the default) takes a free one. */
  httpPort?: number;
  /** HTTPS with a certificate made at the start (the default), or plain HTTP when false. */
  tls?: boolean;
  /** Where accepted messages' statuses are POSTed; none: no webhook. */
  webhookUrl?: string;
  /** The wait before a job's webhook call, and between its tries (100 ms by default). */
  webhookDelayMs?: number;
  /** Tries of one call before it is given up (3 by default): Unisender Go goes on for a day. */
  webhookAttempts?: number;
  /** How many messages and webhook calls are kept; the oldest go first. */
  remember?: number;
  /** Told of webhook calls that failed and of requests that broke. */
  onError?: (error: Error) => void;
}

export interface UnisenderGoPeer
  extends ReceivedItems<ReceivedUnisenderGoMessage>,
    FaultControls<UnisenderGoFault> {
  /** Where email/send.json lives under: the provider's baseUrl. */
  readonly url: string;
  /** The HTML page: `GET /`, `GET /messages`, `DELETE /messages`, `GET /webhooks`, `GET` and `POST /fault`. */
  readonly httpUrl: string;
  /** The peer's self-signed certificate, made at its start; empty without TLS. */
  readonly ca: string;
  webhookCalls(): UnisenderGoWebhookCall[];
  /** From now on email/send refuses `address` with `code` in failed_emails (case does not matter). */
  refuse(address: string, code: UnisenderGoFailedEmailCode): void;
  /** From now on the webhook reports `status` for `address` once accepted, instead of delivered. */
  reportAs(address: string, status: UnisenderGoFinalStatus): void;
  /** Forgets the messages, the webhook calls, the idempotence keys and every mark. */
  clear(): void;
  /** Cuts every open request, gives up the webhook calls to come, and stops both servers. */
  close(): Promise<void>;
}

// The API's own limit on a request (the docs: 10 MB, answered 413).
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const SEND_PATH = /^\/[a-z]{2}\/transactional\/api\/v1\/email\/send\.json$/;
// Unisender Go waits this long for a webhook's answer before it counts the call as failed.
const WEBHOOK_TIMEOUT_MS = 3000;
const ADDRESS = /^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$/;

/**
 * A stand-in for Unisender Go's Web API on a local port, for tests and local development: it
 * takes email/send.json as the real API does (the key, the fields, their sizes), answers with a
 * job id, the addresses taken and failed_emails, keeps what it took, and calls a webhook with
 * signed status events as Unisender Go does. Its faults are switched at run time, from code or
 * over its HTML page.
 */
export async function startUnisenderGoPeer(options: UnisenderGoPeerOptions): Promise<UnisenderGoPeer> {
  const { apiKey } = options;
  if (!apiKey) throw new Error("the Unisender Go peer needs an API key");
  const host = options.host ?? "127.0.0.1";
  const remember = options.remember ?? 1000;
  const received = new ReceivedLog<ReceivedUnisenderGoMessage>("the Unisender Go peer", remember);
  const calls = new ReceivedLog<UnisenderGoWebhookCall>("the Unisender Go peer", remember, "webhook call");
  const webhookDelayMs = options.webhookDelayMs ?? 100;
  const webhookAttempts = options.webhookAttempts ?? 3;
  if (!(Number.isInteger(webhookAttempts) && webhookAttempts >= 1)) {
    throw new Error(`webhookAttempts must be a whole number above 0, got ${webhookAttempts}`);
  }
  const webhookUrl = options.webhookUrl === undefined ? undefined : new URL(options.webhookUrl);

  const refusals = new Map<string, UnisenderGoFailedEmailCode>();
  const finalStatuses = new Map<string, UnisenderGoFinalStatus>();
  // The answer each idempotence key was given: a repeat gets it again and sends nothing.
  const answered = new Map<string, unknown>();
  const webhooks = new AbortController();
  const faults = new FaultSwitch(unisenderGoFault);

  const callWebhook = async (url: URL, jobId: string, body: string): Promise<void> => {
    for (let attempt = 1; attempt <= webhookAttempts; attempt++) {
      await delay(webhookDelayMs, undefined, { signal: webhooks.signal });
      const call: UnisenderGoWebhookCall = { jobId, attempt, at: new Date().toISOString(), body };
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.any([webhooks.signal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
        });
        await response.arrayBuffer();
        call.status = response.status;
      } catch (error) {
        if (webhooks.signal.aborted) return;
        call.error = error instanceof Error ? error.message : String(error);
      }
      calls.keep(call);
      // 200 and nothing else: Unisender Go counts any other answer as a failed call.
      if (call.status === 200) return;
    }
    options.onError?.(new Error(`the webhook call of job ${jobId} failed ${webhookAttempts} times`));
  };

  const accept = (message: UnisenderGoSendMessage): unknown => {
    const jobId = newJobId();
    const emails: string[] = [];
    const failedEmails: Record<string, UnisenderGoFailedEmailCode> = {};
    const seen = new Set<string>();
    for (const { email } of message.recipients) {
      const lower = email.toLowerCase();
      const code = !ADDRESS.test(email) ? "invalid" : seen.has(lower) ? "duplicate" : refusals.get(lower);
      seen.add(lower);
      // A repeated address is sent to once and named in both lists, as the real API does.
      if (code === undefined || code === "duplicate") {
        if (!emails.some((taken) => taken.toLowerCase() === lower)) emails.push(email);
      }
      if (code !== undefined) failedEmails[email] = code;
    }
    const answer = {
      status: "success",
      job_id: jobId,
      emails,
      ...(Object.keys(failedEmails).length > 0 ? { failed_emails: failedEmails } : {}),
    };
    const kept: ReceivedUnisenderGoMessage = {
      jobId,
      receivedAt: new Date().toISOString(),
      message,
      emails,
      failedEmails,
    };
    received.keep(kept);
    if (webhookUrl && emails.length > 0) {
      const body = signUnisenderGoWebhook(webhookPayload(kept, finalStatuses), apiKey);
      void callWebhook(webhookUrl, jobId, body).catch((error: unknown) => {
        if (!webhooks.signal.aborted)
          options.onError?.(error instanceof Error ? error : new Error(String(error)));
      });
    }
    return answer;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? "/", "http://peer").pathname;
    if (!SEND_PATH.test(path))
      throw new HttpError(404, `no method at ${path}: this peer has email/send.json`);
    if (request.method !== "POST") throw new HttpError(405, "every method takes POST");
    const raw = await readBody(request, MAX_REQUEST_BYTES);
    const fault = faults.get();
    if (fault.mode === "slow") await delay(fault.delayMs ?? 0);
    switch (fault.mode) {
      case "hang":
        return;
      case "drop":
        request.socket.destroy();
        return;
      case "5xx":
        throw new HttpError(500, "Internal server error");
      case "rate-limit":
        return sendJson(
          response,
          429,
          { status: "error", message: "Too many requests", code: 429 },
          { "retry-after": String(fault.retryAfterSeconds ?? 1) },
        );
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      throw new HttpError(400, "the request is not JSON");
    }
    const given = request.headers["x-api-key"] ?? (isRecord(body) ? body.api_key : undefined);
    if (fault.mode === "auth" || given !== apiKey) throw new HttpError(401, "Can not decode key");
    const message = validSendRequest(body);
    const key = message.idempotence_key;
    const previous = key === undefined ? undefined : answered.get(key);
    if (previous !== undefined) return sendJson(response, 200, previous);
    const answer = accept(message);
    if (key !== undefined) {
      answered.set(key, answer);
      if (answered.size > remember) answered.delete(answered.keys().next().value as string);
    }
    sendJson(response, 200, answer);
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch((error: unknown) => {
      if (!(error instanceof HttpError))
        options.onError?.(error instanceof Error ? error : new Error(String(error)));
      const status = error instanceof HttpError ? error.status : 500;
      const text = error instanceof Error ? error.message : String(error);
      // The API's error shape; its codes are the peer's own, the real ones are not all documented.
      if (!response.headersSent) sendJson(response, status, { status: "error", message: text, code: status });
    });
  };

  const tls = options.tls ?? true;
  const certificate = tls ? await selfSignedCertificate() : undefined;
  const api: Server = certificate
    ? createHttpsServer({ key: certificate.key, cert: certificate.cert }, onRequest)
    : createHttpServer(onRequest);
  const port = await listen(api, options.port ?? 0, host);

  const peer = {
    url: `${tls ? "https" : "http"}://${host}:${port}`,
    ca: certificate?.cert ?? "",
    ...received.asReceivedItems(),
    webhookCalls: () => calls.all(),
    refuse: (address: string, code: UnisenderGoFailedEmailCode) => {
      refusals.set(address.toLowerCase(), code);
    },
    reportAs: (address: string, status: UnisenderGoFinalStatus) => {
      finalStatuses.set(address.toLowerCase(), status);
    },
    clear: () => {
      received.clear();
      calls.clear();
      answered.clear();
      refusals.clear();
      finalStatuses.clear();
    },
    ...faults.asFaultControls(),
  };

  const page = await servePeerPage(
    {
      title: "Unisender Go peer",
      columns: ["received", "job", "to", "subject", "failed", "webhook"],
      row: (message: ReceivedUnisenderGoMessage) => {
        const last = calls.all().findLast((call) => call.jobId === message.jobId);
        return [
          message.receivedAt,
          message.jobId,
          message.message.recipients.map((recipient) => recipient.email).join(", "),
          message.message.subject,
          Object.entries(message.failedEmails)
            .map(([email, code]) => `${email}: ${code}`)
            .join(", "),
          last ? `try ${last.attempt}: ${last.status ?? last.error ?? ""}` : "",
        ];
      },
      received: peer,
      faults,
      routes: { "/webhooks": { GET: (_request, response) => sendJson(response, 200, calls.all()) } },
    },
    host,
    options.httpPort ?? 0,
  ).catch(closingOnFailure(() => stop(api)));

  return {
    ...peer,
    httpUrl: page.url,
    close: async () => {
      webhooks.abort();
      await Promise.all([stop(api), page.close()]);
    },
  };
}

/**
 * `payload` as Unisender Go sends it to a webhook: `auth` first, the MD5 of the body as it is
 * with the API key in that place, and slashes escaped as in the calls Unisender Go makes.
 */
export function signUnisenderGoWebhook(payload: Record<string, unknown>, apiKey: string): string {
  const rest = JSON.stringify(payload).replaceAll("/", "\\/").slice(1);
  const head = `{"auth":${JSON.stringify(apiKey)}`;
  const unsigned = `${head}${rest === "}" ? "" : ","}${rest}`;
  const digest = createHash("md5").update(unsigned, "utf8").digest("hex");
  return `{"auth":"${digest}"${unsigned.slice(head.length)}`;
}

/** A job's events in one call: sent, then the final status of each address taken. */
function webhookPayload(
  message: ReceivedUnisenderGoMessage,
  finalStatuses: Map<string, UnisenderGoFinalStatus>,
): Record<string, unknown> {
  const eventTime = new Date().toISOString().slice(0, 19).replace("T", " ");
  const events = message.emails.flatMap((email) => {
    const recipient = message.message.recipients.find(
      (each) => each.email.toLowerCase() === email.toLowerCase(),
    );
    const common = {
      job_id: message.jobId,
      metadata: recipient?.metadata ?? {},
      email,
      event_time: eventTime,
    };
    const status = finalStatuses.get(email.toLowerCase()) ?? "delivered";
    const info = deliveryInfo(status, email);
    return [
      { event_name: "transactional_email_status", event_data: { ...common, status: "sent" } },
      {
        event_name: "transactional_email_status",
        event_data: { ...common, status, ...(info ? { delivery_info: info } : {}) },
      },
    ];
  });
  return { events_by_user: [{ user_id: 1, project_id: "peer", project_name: "Unisender Go peer", events }] };
}

/** What the receiving server said of a bounce, quoting the address as servers do. */
function deliveryInfo(status: UnisenderGoFinalStatus, email: string): Record<string, string> | undefined {
  if (status === "hard_bounced") {
    return {
      delivery_status: "err_user_unknown",
      destination_response: `550 5.1.1 <${email}>: Recipient address rejected: User unknown`,
    };
  }
  if (status === "soft_bounced") {
    return {
      delivery_status: "err_mailbox_full",
      destination_response: `452 4.2.2 <${email}>: Mailbox full`,
    };
  }
  return undefined;
}

/** A job id shaped like Unisender Go's ("1ZymBc-00041N-9X"). */
function newJobId(): string {
  const part = (length: number): string =>
    randomBytes(length).toString("base64url").replace(/[-_]/g, "0").slice(0, length);
  return `${part(6)}-${part(6)}-${part(2)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
