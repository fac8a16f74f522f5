import type { IncomingHttpHeaders } from "node:http";
import { Agent, request } from "node:https";
import { redactErrorText } from "../../core/personal-data.ts";
import type { DeliveryOutcome } from "../../core/sending/index.ts";

export interface HttpsFormClientOptions {
  /** The provider the requests are for, named in the errors of its configuration. */
  name: string;
  /** https only: the credentials go in every request's form. */
  baseUrl: string;
  /** The only certificates trusted, in place of the system's: for a test peer. */
  ca?: string;
  /** How long one request may take, from connecting to the last byte of the answer. */
  timeoutMs: number;
  /** Connections kept open to the API. */
  maxConnections: number;
}

/** What the API answered, whatever its status; or why there is no answer. */
export type HttpsAnswer =
  | { ok: true; status: number; headers: IncomingHttpHeaders; body: string }
  | { ok: false; reason: string };

// The vendors' answers are a few hundred bytes: anything past this is not one.
const MAX_ANSWER_BYTES = 1024 * 1024;
// Idle connections go before the usual 5 s keep-alive of servers would close them under a request.
const IDLE_SOCKET_MS = 4_000;
const MAX_REASON_LENGTH = 500;

/**
 * Form-encoded POSTs to one vendor's HTTPS API over a bounded pool of kept-alive connections,
 * each request bounded in time as a whole. node:https rather than fetch: fetch cannot be told
 * which certificate authority to trust.
 */
export class HttpsFormClient {
  private readonly options: HttpsFormClientOptions;
  private readonly baseUrl: string;
  private readonly agent: Agent;
  private closed = false;

  constructor(options: HttpsFormClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new Error(`${options.name}: the base URL is not a URL: ${options.baseUrl}`);
    }
    // No clear-text mode: the API key and every number and text would cross the network readable.
    if (url.protocol !== "https:") {
      throw new Error(`${options.name}: the base URL must be https, got ${url.protocol}`);
    }
    if (!(Number.isInteger(options.timeoutMs) && options.timeoutMs >= 1)) {
      throw new Error(`${options.name}: timeoutMs must be a whole number above 0, got ${options.timeoutMs}`);
    }
    if (!(Number.isInteger(options.maxConnections) && options.maxConnections >= 1)) {
      throw new Error(
        `${options.name}: maxConnections must be a whole number above 0, got ${options.maxConnections}`,
      );
    }
    this.options = options;
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: options.maxConnections,
      timeout: IDLE_SOCKET_MS,
      ...(options.ca ? { ca: options.ca } : {}),
    });
  }

  post(path: string, form: URLSearchParams): Promise<HttpsAnswer> {
    if (this.closed) return Promise.resolve({ ok: false, reason: "the provider is closed" });
    const body = Buffer.from(form.toString(), "utf8");
    const { timeoutMs } = this.options;
    return new Promise<HttpsAnswer>((resolve) => {
      let settled = false;
      const settle = (answer: HttpsAnswer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(answer);
      };
      const outgoing = request(
        `${this.baseUrl}${path}`,
        {
          method: "POST",
          agent: this.agent,
          headers: {
            "content-type": "application/x-www-form-urlencoded; charset=utf-8",
            "content-length": body.length,
            accept: "application/json",
          },
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          let size = 0;
          incoming.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES) {
              outgoing.destroy();
              settle({ ok: false, reason: `the answer is larger than ${MAX_ANSWER_BYTES} bytes` });
              return;
            }
            chunks.push(chunk);
          });
          incoming.on("end", () =>
            settle({
              ok: true,
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              body: Buffer.concat(chunks).toString("utf8"),
            }),
          );
          incoming.on("error", (error) => settle({ ok: false, reason: transportReason(error) }));
        },
      );
      const timer = setTimeout(() => {
        settle({ ok: false, reason: `ETIMEDOUT: no answer within ${timeoutMs} ms` });
        outgoing.destroy();
      }, timeoutMs);
      outgoing.on("error", (error) => settle({ ok: false, reason: transportReason(error) }));
      outgoing.end(body);
    });
  }

  /** Cuts the pooled connections; requests from now on fail at once. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
  }
}

/**
 * The failure an answer other than 2xx means: the vendor's front (a proxy, a balancer) failing
 * or throttling, never a verdict on the message, so always retryable; 429's Retry-After is honoured.
 */
export function httpStatusFailure(
  answer: Extract<HttpsAnswer, { ok: true }>,
  now = Date.now(),
): Extract<DeliveryOutcome, { status: "failed" }> | undefined {
  if (answer.status >= 200 && answer.status < 300) return undefined;
  const reason = `HTTP ${answer.status}`;
  if (answer.status !== 429) return { status: "failed", reason, retryable: true };
  const retryAfterMs = retryAfterMsOf(answer.headers["retry-after"], now);
  return { status: "failed", reason, retryable: true, ...(retryAfterMs ? { retryAfterMs } : {}) };
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in milliseconds from `now`. */
export function retryAfterMsOf(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** What a vendor's own text says, fit for a reason: one line, bounded, with no number or address in it. */
export function cleanReason(text: string): string {
  return redactErrorText(text.replace(/\s+/g, " ").trim()).slice(0, MAX_REASON_LENGTH);
}

function transportReason(error: Error): string {
  const { code } = error as NodeJS.ErrnoException;
  return cleanReason(code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message);
}
