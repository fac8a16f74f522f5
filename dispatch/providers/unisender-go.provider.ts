import type { IncomingHttpHeaders } from "node:http";
import { Agent, request } from "node:https";
import type { Channel } from "../../core/channels.ts";
import { redactErrorText } from "../../core/personal-data.ts";
import type { DeliveryOutcome, OutgoingMessage, Provider } from "../../core/sending/index.ts";
import { SendsInFlight } from "./sends-in-flight.ts";

export interface UnisenderGoProviderOptions {
  /** Unique among the providers, e.g. "unisender-go". */
  name: string;
  /** The account's or project's API key; a project's key also signs that project's webhooks. */
  apiKey: string;
  /**
   * The data centre the account was registered in: https://go1.unisender.ru (the default) or
   * https://go2.unisender.ru. HTTPS only: the key and every message would cross the network readable.
   */
  baseUrl?: string;
  /** The sender every message shows; its domain must be verified in the account. */
  from: { address: string; name?: string };
  replyTo?: string;
  tls?: {
    /** The only certificates trusted, in place of the system's: for a test peer. */
    ca?: string;
  };
  /** How long one request may take, connecting and the whole answer included (10 s by default). */
  timeoutMs?: number;
}

/** Where our message id rides in a recipient's metadata: Unisender Go hands it back in every webhook event. */
export const MESSAGE_ID_METADATA_KEY = "message_id";

const SEND_PATH = "/ru/transactional/api/v1/email/send.json";
// The API keeps an idempotence_key of at most 64 characters (email/send, API v1.69).
const MAX_IDEMPOTENCE_KEY_LENGTH = 64;
// Header values are ours and unfolded: anything that could end a header line would let a value add headers.
const HEADER_SAFE = /^[\x21-\x7e]+$/;
const ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
// The answer names one address or explains one error: a few kilobytes. More is not an answer of the API's.
const MAX_ANSWER_BYTES = 64 * 1024;
// Sockets kept open to the API: enough for the dispatcher's workers, bounded all the same (STYLE §9).
const MAX_SOCKETS = 16;
const MAX_REASON_LENGTH = 500;

/**
 * What failed_emails says of an address we sent to, by code. Codes about the person's choice
 * (unsubscribed, complained) fail the message for good but leave the address alone: the
 * unsubscribe or the complaint reaches us through the webhook when it happens, and it is not
 * a dead address. invalid and permanent_unavailable (it hard-bounced before) mean no provider
 * will ever deliver there: the destination is gone. blocked is Unisender Go's block list
 * (spam traps and the like): sending it elsewhere would only spend our reputation.
 * temporary_unavailable is a recent soft bounce that Unisender Go waits out: later, or
 * another provider, may deliver. duplicate means the address was sent to once, which it was.
 */
const FAILED_EMAIL_OUTCOMES: Record<string, { retryable: boolean; destinationGone?: boolean } | "sent"> = {
  invalid: { retryable: false, destinationGone: true },
  permanent_unavailable: { retryable: false, destinationGone: true },
  unsubscribed: { retryable: false },
  complained: { retryable: false },
  blocked: { retryable: false },
  temporary_unavailable: { retryable: true },
  duplicate: "sent",
};

/**
 * Email through Unisender Go's Web API (email/send.json), one recipient per request. Our message
 * id goes as the idempotence key, so a resend after a lost answer is not sent twice, and as the
 * recipient's metadata, which every webhook event about the message carries back. The job id of
 * the answer names the send: with one recipient per job it names the message too, and webhook
 * events carry it as well.
 */
export class UnisenderGoProvider implements Provider {
  private readonly sends: SendsInFlight;
  readonly name: string;
  readonly channels: readonly Channel[] = ["email"];
  private readonly sendUrl: URL;
  private readonly timeoutMs: number;
  private readonly agent: Agent;

  constructor(private readonly options: UnisenderGoProviderOptions) {
    if (!options.name) throw new Error("a Unisender Go provider needs a name");
    if (!options.apiKey || !HEADER_SAFE.test(options.apiKey)) {
      throw new Error(
        `${options.name}: the Unisender Go API key is missing or holds spaces or control characters`,
      );
    }
    let base: URL;
    try {
      base = new URL(options.baseUrl ?? "https://go1.unisender.ru");
    } catch (error) {
      throw new Error(`${options.name}: the Unisender Go base URL is not a URL`, { cause: error });
    }
    if (base.protocol !== "https:") {
      throw new Error(`${options.name}: the Unisender Go base URL must be https, got ${base.protocol}`);
    }
    if (!ADDRESS.test(options.from.address)) {
      throw new Error(`${options.name}: the sender is not an address: ${options.from.address}`);
    }
    if (options.replyTo !== undefined && !ADDRESS.test(options.replyTo)) {
      throw new Error(`${options.name}: the reply-to is not an address: ${options.replyTo}`);
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1)) {
      throw new Error(`${options.name}: timeoutMs must be a whole number above 0, got ${timeoutMs}`);
    }
    this.name = options.name;
    this.sends = new SendsInFlight(this.name);
    this.timeoutMs = timeoutMs;
    this.sendUrl = new URL(`${base.pathname.replace(/\/+$/, "")}${SEND_PATH}`, base);
    this.agent = new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, ca: options.tls?.ca });
  }

  send(message: OutgoingMessage): Promise<DeliveryOutcome> {
    return this.sends.track(() => this.deliver(message));
  }

  /** New messages fail as retryable at once; the ones on their way get their answer first. */
  async close(): Promise<void> {
    await this.sends.drain();
    this.agent.destroy();
  }

  private async deliver(message: OutgoingMessage): Promise<DeliveryOutcome> {
    const body = JSON.stringify({ message: this.payloadOf(message) });
    let answer: Answer;
    try {
      answer = await this.post(body);
    } catch (error) {
      // Refused connections, timeouts, dropped connections, TLS that failed: the API, not the message.
      return failed(networkReason(error), true);
    }
    return outcomeOf(answer);
  }

  private payloadOf(message: OutgoingMessage): Record<string, unknown> {
    const { destination, messageId } = message;
    if (destination.channel !== "email") {
      throw new Error(
        `${this.name} delivers email, not ${destination.channel}: it was chosen against its channels`,
      );
    }
    if (!HEADER_SAFE.test(messageId) || messageId.length > MAX_IDEMPOTENCE_KEY_LENGTH) {
      throw new Error(
        `${this.name}: message id ${JSON.stringify(messageId)} cannot be an idempotence key and a header`,
      );
    }
    const headers: Record<string, string> = { "X-Notification-Id": messageId };
    if (message.unsubscribeUrl !== undefined) {
      // Plain http is let through for development (PUBLIC_BASE_URL's default); mailbox providers want https.
      if (!/^https?:\/\/[^\s<>]+$/.test(message.unsubscribeUrl)) {
        throw new Error(`${this.name}: the unsubscribe address of ${messageId} is not an http(s) URL`);
      }
      // RFC 8058: a mailbox provider unsubscribes with one POST, without a page to click through.
      headers["List-Unsubscribe"] = `<${message.unsubscribeUrl}>`;
      headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
    }
    return {
      recipients: [{ email: destination.email, metadata: { [MESSAGE_ID_METADATA_KEY]: messageId } }],
      subject: message.subject,
      from_email: this.options.from.address,
      ...(this.options.from.name ? { from_name: this.options.from.name } : {}),
      ...(this.options.replyTo ? { reply_to: this.options.replyTo } : {}),
      body: { plaintext: message.body, ...(message.bodyHtml ? { html: message.bodyHtml } : {}) },
      headers,
      idempotence_key: messageId,
      // Opens and clicks are ours to count when we do: Unisender Go's would rewrite every link.
      track_links: 0,
      track_read: 0,
      // With our own one-click link Unisender Go adds no footer and no List-Unsubscribe of its own,
      // so one unsubscribe, ours, reaches the user's preferences. Without one (a message to no
      // known user) its own link is the recipient's way out. Skipping it must be enabled for the
      // account by Unisender Go's support.
      skip_unsubscribe: message.unsubscribeUrl === undefined ? 0 : 1,
    };
  }

  private post(body: string): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const outgoing = request(this.sendUrl, {
        method: "POST",
        agent: this.agent,
        headers: {
          "content-type": "application/json; charset=utf-8",
          accept: "application/json",
          "content-length": Buffer.byteLength(body),
          "x-api-key": this.options.apiKey,
        },
      });
      // One deadline for the whole exchange: a server that trickles its answer is as stuck as a silent one.
      const settle = (settler: () => void): void => {
        clearTimeout(timer);
        settler();
      };
      // Rejected here rather than through the request's error, which a destroyed response may not emit.
      const abandon = (error: Error): void => {
        settle(() => reject(error));
        outgoing.destroy(error);
      };
      const timer = setTimeout(() => {
        abandon(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: "ETIMEDOUT" }));
      }, this.timeoutMs);
      outgoing.once("error", (error) => settle(() => reject(error)));
      outgoing.once("response", (incoming) => {
        const chunks: Buffer[] = [];
        let size = 0;
        incoming.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            abandon(new Error(`an answer larger than ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        incoming.once("error", (error) => settle(() => reject(error)));
        incoming.once("end", () =>
          settle(() =>
            resolve({
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              text: Buffer.concat(chunks).toString("utf8"),
            }),
          ),
        );
      });
      outgoing.end(body);
    });
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

function outcomeOf(answer: Answer): DeliveryOutcome {
  const json = parseJson(answer.text);
  if (answer.status === 200) {
    if (!isRecord(json) || json.status !== "success" || typeof json.job_id !== "string" || !json.job_id) {
      return failed(`HTTP 200 without a job: ${describe(json, answer.text)}`, true);
    }
    return sentOrRefused(json, json.job_id);
  }
  const reason = `HTTP ${answer.status}: ${describe(json, answer.text)}`;
  if (answer.status === 429) {
    const retryAfterMs = retryAfterMsOf(answer.headers["retry-after"]);
    return { ...failed(reason, true), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  // 400: the request, which only this message's fields vary in; 413: the message is over 10 MB.
  // Everything else (a refused key 401/403, a wrong base URL 404, 5xx) refuses every message
  // alike: ours to fix or the API's to recover, and another provider may take the message meanwhile.
  return failed(reason, !(answer.status === 400 || answer.status === 413));
}

/** One recipient per request: whatever the answer lists, sent or failed, is about it. */
function sentOrRefused(json: Record<string, unknown>, jobId: string): DeliveryOutcome {
  if (Array.isArray(json.emails) && json.emails.length > 0)
    return { status: "sent", providerMessageId: jobId };
  const code = isRecord(json.failed_emails) ? Object.values(json.failed_emails)[0] : undefined;
  if (typeof code !== "string") {
    return failed(`the answer of job ${jobId} names the address neither as sent nor as failed`, true);
  }
  const known = FAILED_EMAIL_OUTCOMES[code];
  if (known === "sent") return { status: "sent", providerMessageId: jobId };
  // A code of a newer API version: nothing says the message is at fault, so it may be tried again.
  const { retryable, destinationGone } = known ?? { retryable: true };
  const reason = clean(`failed_emails: ${code} (job ${jobId})`);
  return destinationGone ? { ...failed(reason, retryable), destinationGone } : failed(reason, retryable);
}

type Failure = Extract<DeliveryOutcome, { status: "failed" }>;

function failed(reason: string, retryable: boolean): Failure {
  return { status: "failed", reason, retryable };
}

/** The API's own words ({status: "error", message, code}), or the start of whatever came. */
function describe(json: unknown, text: string): string {
  if (isRecord(json) && typeof json.message === "string") {
    return clean(`${json.message}${typeof json.code === "number" ? ` (code ${json.code})` : ""}`);
  }
  return clean(text) || "(no body)";
}

function networkReason(error: unknown): string {
  if (!(error instanceof Error)) return clean(String(error));
  const code = (error as NodeJS.ErrnoException).code;
  return clean([code, error.message].filter(Boolean).join(": "));
}

/** One line, without addresses or quoted values, short enough for the message log. */
function clean(text: string): string {
  return redactErrorText(text.replace(/\s+/g, " ").trim()).slice(0, MAX_REASON_LENGTH);
}

/** Retry-After as seconds or as an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMsOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
