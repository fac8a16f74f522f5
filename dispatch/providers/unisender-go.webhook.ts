import { createHash, timingSafeEqual } from "node:crypto";
import { redactErrorText } from "../../core/personal-data.ts";
import type { ProviderReport } from "../../core/sending/index.ts";
import { MESSAGE_ID_METADATA_KEY } from "./unisender-go.provider.ts";

/** One event of a webhook call: what it reports, and our message id from the recipient's metadata. */
export interface UnisenderGoEvent {
  report: ProviderReport;
  /** Ours, as sent in metadata: the surest key to the message, should the job id not be known. */
  messageId: string | undefined;
}

/**
 * A webhook call, checked and read: its events, and why each event left out was left out
 * (`ignored` holds no address). `refused`: not from Unisender Go as far as we can tell, or not
 * readable at all; nothing in it may be acted on.
 */
export type UnisenderGoWebhook = { events: UnisenderGoEvent[]; ignored: string[] } | { refused: string };

interface RawEvent {
  name?: unknown;
  data?: unknown;
}

const MD5_HEX = /^[0-9a-f]{32}$/;
// event_time as Unisender Go writes it: UTC, without saying so.
const EVENT_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/;
const MAX_REASON_LENGTH = 500;

/**
 * Reads a call of Unisender Go's webhook (the "json_post" format, one event per call or many):
 * `rawBody` exactly as it came, decoded as UTF-8, since the signature covers its bytes; `apiKey`
 * the key of the account or project the webhook was set up for; `provider` the configured
 * provider's name, which every report carries.
 *
 * Unisender Go signs a call with its `auth` field: the MD5 of the body as it was with the API
 * key in place of the digest. The body is checked as it came, never as parsed and written
 * again: Unisender Go escapes slashes and orders keys its own way.
 *
 * delivered → delivered; hard_bounced → failed for good; soft_bounced is left out: Unisender Go
 * keeps trying after it, and a delivered or hard_bounced follows, which a failure recorded
 * now would shut out
 * (Unisender Go goes on trying); spam → complaint; unsubscribed (through Unisender Go's own
 * link) → unsubscribed. sent, opened, clicked and subscribed, and transactional_spam_block
 * (a block of our sending by a mailbox provider, about no one message), are left out.
 * The same call comes again when it was not answered 200 in time: acting on it twice must
 * change nothing.
 */
export function parseUnisenderGoWebhook(
  rawBody: string,
  apiKey: string,
  provider: string,
): UnisenderGoWebhook {
  // Without a key the digest of any body could be made by anyone.
  if (!apiKey) throw new Error(`${provider}: a webhook call cannot be checked without the API key`);
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return { refused: "the body is not JSON" };
  }
  if (!isRecord(body)) return { refused: "the body is not a JSON object" };
  const { auth } = body;
  if (typeof auth !== "string") return { refused: "the body has no auth field" };
  // A digest is 32 hex digits: anything else could also match JSON syntax around it when replaced.
  if (!MD5_HEX.test(auth)) return { refused: "auth is not an MD5 digest" };
  const expected = createHash("md5").update(rawBody.replaceAll(auth, apiKey), "utf8").digest("hex");
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(auth))) {
    return { refused: "auth does not match the body signed with our API key" };
  }

  const events: UnisenderGoEvent[] = [];
  const ignored: string[] = [];
  for (const raw of eventsIn(body)) {
    const read = readEvent(raw, provider);
    if ("ignored" in read) ignored.push(read.ignored);
    else events.push(read);
  }
  return { events, ignored };
}

/**
 * The events with their names: `events_by_user` (a one-element list, as the docs say, read
 * whole all the same), or the call itself when the webhook sends one event per call, its
 * fields then beside `event_name`.
 */
function eventsIn(body: Record<string, unknown>): RawEvent[] {
  if (!("events_by_user" in body)) return [{ name: body.event_name, data: body }];
  const users = Array.isArray(body.events_by_user) ? body.events_by_user : [];
  return users
    .flatMap((user) => (isRecord(user) && Array.isArray(user.events) ? user.events : []))
    .map((event) => (isRecord(event) ? { name: event.event_name, data: event.event_data } : {}));
}

function readEvent(raw: RawEvent, provider: string): UnisenderGoEvent | { ignored: string } {
  if (raw.name === "transactional_spam_block") {
    return { ignored: "transactional_spam_block: a block of our sending, about no one message" };
  }
  if (raw.name !== "transactional_email_status") return { ignored: `an event named ${describe(raw.name)}` };
  const { data } = raw;
  if (!isRecord(data)) return { ignored: "a transactional_email_status without event_data" };
  const { status, job_id: jobId } = data;
  if (typeof jobId !== "string" || !jobId) {
    return { ignored: `a ${describe(status)} status naming no job` };
  }
  const at = timeOf(data.event_time);
  if (!at) return { ignored: `${describe(status)} of job ${jobId}: no readable event_time` };
  const metadata = isRecord(data.metadata) ? data.metadata : {};
  const messageId = metadata[MESSAGE_ID_METADATA_KEY];
  const base = { provider, providerMessageId: jobId, at };
  const report = reportOf(status, data.delivery_info, base);
  if (!report) return { ignored: `${describe(status)} of job ${jobId}: not reported yet` };
  return { report, messageId: typeof messageId === "string" ? messageId : undefined };
}

function reportOf(
  status: unknown,
  deliveryInfo: unknown,
  base: { provider: string; providerMessageId: string; at: Date },
): ProviderReport | undefined {
  switch (status) {
    case "delivered":
      return { ...base, kind: "delivered" };
    case "hard_bounced":
      return { ...base, kind: "failed", permanent: true, reason: bounceReason(status, deliveryInfo) };
    case "spam":
      return { ...base, kind: "complaint" };
    case "unsubscribed":
      return { ...base, kind: "unsubscribed" };
    default:
      // sent, opened, clicked, subscribed: engagement comes with the campaigns' statistics.
      return undefined;
  }
}

/** "hard_bounced: err_user_unknown: 550 5.1.1 …", with the address the server quoted hidden. */
function bounceReason(status: string, deliveryInfo: unknown): string {
  const info = isRecord(deliveryInfo) ? deliveryInfo : {};
  const parts = [status, info.delivery_status, info.destination_response].filter(
    (part): part is string => typeof part === "string" && part.trim() !== "",
  );
  return redactErrorText(parts.join(": ").replace(/\s+/g, " ").trim()).slice(0, MAX_REASON_LENGTH);
}

function timeOf(value: unknown): Date | undefined {
  const parts = typeof value === "string" ? EVENT_TIME.exec(value.trim()) : null;
  if (!parts) return undefined;
  const iso = `${parts[1]}T${parts[2]}`;
  const at = new Date(`${iso}Z`);
  // A date that does not exist (2024-02-31) is not read as another one it rolls over into.
  return !Number.isNaN(at.getTime()) && at.toISOString().startsWith(iso) ? at : undefined;
}

/** A field's value for a reason: a short word as it is, anything else by its type. */
function describe(value: unknown): string {
  return typeof value === "string" && /^[a-z_]{1,40}$/.test(value) ? value : `(${typeof value})`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
