import { createHash, timingSafeEqual } from "node:crypto";
import type { DeliveryOutcome, ProviderReport } from "../../core/sending/index.ts";
import { cleanReason, httpStatusFailure } from "./https-form-client.ts";
import { type SmsHttpOptions, SmsHttpProvider, type SmsToSend } from "./sms-provider-base.ts";

export interface SmsRuProviderOptions extends SmsHttpOptions {
  /** The account's API key (api_id). */
  apiId: string;
  /** https://sms.ru unless told otherwise (a test peer). */
  baseUrl?: string;
  /** A sender name approved for the account; the account's default sender without it. */
  sender?: string;
}

interface SmsRuStatus {
  status?: unknown;
  status_code?: unknown;
  status_text?: unknown;
}

interface SmsRuAnswer extends SmsRuStatus {
  sms?: Record<string, (SmsRuStatus & { sms_id?: unknown }) | undefined>;
}

// The range SMS.ru takes for ttl, in minutes.
const TTL_MINUTES = { min: 1, max: 24 * 60 };
// Refusals about this message or this number: no provider would do better with them.
// 202 the number is wrong, 203 no text, 205 longer than 8 SMS, 207 no sending to this number,
// 209 the number is in our stop list, 215 in SMS.ru's (its owner complained of spam), 216 a
// forbidden word in the text.
const REFUSED_FOR_GOOD = new Set([202, 203, 205, 207, 209, 215, 216]);
// Everything else is about our account or SMS.ru itself, and is retryable, since another
// provider may take the message: 200/300/301/302 our credentials, 201 our funds (ours to top
// up; failing every message for it would throw them all away), 204 our sender name, 206/230/
// 232 daily limits, 208/210/211/212/213 requests of ours it does not take, 214 our account
// sending to Russia only, 220 and 500 SMS.ru unavailable, 501-508 its anti-fraud limits.
// 231: the same text to the same number within a minute.
const SAME_TEXT_WAIT_MS = 60_000;

/**
 * SMS through SMS.ru's HTTP API (`POST /sms/send`, JSON answers). One number per request, so
 * its answer is about this message alone. SMS.ru takes no key of ours to recognise a resend:
 * a send whose answer was lost (a timeout, a dropped connection) may reach the phone twice.
 * Delivery comes later, through the callback SMS.ru calls (parseSmsRuCallback).
 */
export class SmsRuProvider extends SmsHttpProvider {
  private readonly apiId: string;
  private readonly sender: string | undefined;

  constructor(options: SmsRuProviderOptions) {
    if (!options.apiId) throw new Error(`${options.name}: SMS.ru needs an api_id`);
    if (options.sender !== undefined && !options.sender.trim()) {
      throw new Error(`${options.name}: the sender name is empty; leave it out for the account's default`);
    }
    super(options, options.baseUrl ?? "https://sms.ru");
    this.apiId = options.apiId;
    this.sender = options.sender;
  }

  protected async deliver({ message, e164, minutesLeft }: SmsToSend): Promise<DeliveryOutcome> {
    const to = e164.slice(1);
    const form = new URLSearchParams({ api_id: this.apiId, to, msg: message.body, json: "1" });
    if (this.sender !== undefined) form.set("from", this.sender);
    if (minutesLeft !== undefined) {
      form.set("ttl", String(Math.min(TTL_MINUTES.max, Math.max(TTL_MINUTES.min, minutesLeft))));
    }
    const answer = await this.http.post("/sms/send", form);
    if (!answer.ok) return { status: "failed", reason: answer.reason, retryable: true };
    const httpFailure = httpStatusFailure(answer);
    if (httpFailure) return httpFailure;

    let parsed: SmsRuAnswer;
    try {
      parsed = JSON.parse(answer.body) as SmsRuAnswer;
    } catch {
      return { status: "failed", reason: "SMS.ru answered something other than JSON", retryable: true };
    }
    if (parsed.status !== "OK") return refusal(parsed);
    // Keyed by the number as sent; a single entry under another spelling is still ours.
    const entries = Object.values(parsed.sms ?? {});
    const result = parsed.sms?.[to] ?? (entries.length === 1 ? entries[0] : undefined);
    if (!result) return { status: "failed", reason: "SMS.ru answered without this number", retryable: true };
    if (result.status === "OK" && result.status_code === 100 && typeof result.sms_id === "string") {
      return { status: "sent", providerMessageId: result.sms_id };
    }
    return refusal(result);
  }
}

function refusal(status: SmsRuStatus): DeliveryOutcome {
  const code = typeof status.status_code === "number" ? status.status_code : undefined;
  const text = typeof status.status_text === "string" ? status.status_text : "";
  const reason = cleanReason(`SMS.ru ${code ?? "?"}${text ? ` ${text}` : ""}`);
  if (code !== undefined && REFUSED_FOR_GOOD.has(code)) {
    return { status: "failed", reason, retryable: false, ...(code === 202 ? { destinationGone: true } : {}) };
  }
  return {
    status: "failed",
    reason,
    retryable: true,
    ...(code === 231 ? { retryAfterMs: SAME_TEXT_WAIT_MS } : {}),
  };
}

// Callback status codes (as SMS.ru's /sms/status names them). 100-102 (queued, passed to the
// operator, on its way) are not an outcome yet; 110 (read, Viber) implies delivered.
const DELIVERED = new Set([103, 110]);
const UNDELIVERED: Record<number, { reason: string; permanent: boolean }> = {
  104: { reason: "its time to live ran out", permanent: false },
  105: { reason: "the operator deleted it", permanent: false },
  106: { reason: "the phone failed", permanent: false },
  107: { reason: "for an unknown reason", permanent: false },
  108: { reason: "it was rejected", permanent: false },
  // No route to the number: it does not take SMS, from anyone.
  150: { reason: "there is no route to the number", permanent: true },
};
const SHA256_HEX = /^[0-9a-f]{64}$/i;
// A callback carries up to a few hundred statuses; more than this is not SMS.ru.
const MAX_ENTRIES = 1000;

/**
 * Reads a call of SMS.ru's callback: the form it POSTs (`data[0]`, `data[1]`, … each
 * "sms_status\n<sms_id>\n<status code>\n<unix time>", and `hash`), as a URLSearchParams or the
 * raw body; `apiId` the account's key; `provider` the configured provider's name, which every
 * report carries. SMS.ru signs a call with `hash`, the SHA-256 hex of the api_id followed by
 * every data entry in order, with nothing between them; a call that does not match is refused.
 *
 * 103 (and 110, read) → delivered; 104 expired, 105 deleted by the operator, 106 phone
 * failure, 107 unknown, 108 rejected → failed, not for good; 150 no route to the number →
 * failed for good. Other entries (callcheck_status, statuses on the way) are left out.
 *
 * Our endpoint must answer the body `100` (HTTP 200, text/plain) once it has acted on the
 * reports: SMS.ru calls again until it gets that, so acting on a call twice must change
 * nothing. A refused call is better answered otherwise (403): should our api_id be the wrong
 * one, SMS.ru keeps the statuses coming until it is put right.
 */
export function parseSmsRuCallback(
  form: URLSearchParams | string,
  apiId: string,
  provider: string,
): { reports: ProviderReport[] } | { refused: string } {
  const fields = typeof form === "string" ? new URLSearchParams(form) : form;
  const entries: string[] = [];
  let hash: string | undefined;
  // In the order they came: the signature covers them in that order.
  for (const [key, value] of fields) {
    if (/^data\[\d*\]$/.test(key)) entries.push(value);
    else if (key === "hash") hash = value;
  }
  if (entries.length === 0) return { refused: "the call has no data entries" };
  if (entries.length > MAX_ENTRIES) return { refused: `the call has more than ${MAX_ENTRIES} entries` };
  if (hash === undefined) return { refused: "the call has no hash" };
  if (!SHA256_HEX.test(hash)) return { refused: "hash is not a SHA-256 digest" };
  const expected = createHash("sha256")
    .update(apiId + entries.join(""), "utf8")
    .digest();
  if (!timingSafeEqual(expected, Buffer.from(hash, "hex"))) {
    return { refused: "hash does not match the entries signed with our api_id" };
  }

  const reports: ProviderReport[] = [];
  for (const entry of entries) {
    const [kind, smsId, code, time] = entry.split("\n").map((line) => line.trim());
    if (kind !== "sms_status" || !smsId || !code || !/^\d+$/.test(code)) continue;
    const at = time && /^\d+$/.test(time) ? new Date(Number(time) * 1000) : new Date();
    const status = Number(code);
    const undelivered = UNDELIVERED[status];
    if (DELIVERED.has(status)) {
      reports.push({ provider, providerMessageId: smsId, at, kind: "delivered" });
    } else if (undelivered) {
      const reason = `SMS.ru ${status}: not delivered, ${undelivered.reason}`;
      reports.push({
        provider,
        providerMessageId: smsId,
        at,
        kind: "failed",
        reason,
        permanent: undelivered.permanent,
      });
    }
  }
  return { reports };
}
