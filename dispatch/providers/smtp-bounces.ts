import { type Attachment, simpleParser } from "mailparser";
import { redactErrorText } from "../../core/personal-data.ts";
import type { FeedbackOutcome, ProviderReport } from "../../core/sending/index.ts";
import type { Mailbox, MailboxMessage } from "./pop3-mailbox.ts";
import { saysAddressGone } from "./smtp-status.ts";

/**
 * Why a message in the bounce mailbox gave no report: it is no delivery status notification
 * (an auto-reply, spam, a non-standard bounce), it names no message of ours, it tells of a
 * delay only (the relay tries again and reports the end later), or it cannot be read.
 */
export type DsnIgnored = "not_a_dsn" | "not_ours" | "no_final_status" | "unparseable";

/** What a delivery status notification said of our message, named by our id; or why it is passed over. */
export type DsnReading = { reports: ProviderReport[] } | { ignored: DsnIgnored };

// RFC 3464's report part, and RFC 6533's for internationalised addresses.
const STATUS_TYPES = new Set(["message/delivery-status", "message/global-delivery-status"]);
// The returned message (RET=FULL) or its headers alone (RET=HDRS), in either form.
const RETURNED_TYPES = new Set([
  "message/rfc822",
  "text/rfc822-headers",
  "message/global",
  "message/global-headers",
]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Our Message-ID, as the SMTP provider makes it: <message id@sender's domain>.
const OUR_MESSAGE_ID = /^<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@[^<>@\s]+>$/i;
const STATUS_CODE = /([245])\.(\d{1,3})\.(\d{1,3})(?!\d)/;
const MAX_REASON_LENGTH = 500;

/**
 * Reads a delivery status notification (RFC 3464: a multipart/report of report-type
 * delivery-status) that a relay mailed back after it had taken one of our messages with a 250:
 * finds our message by the headers it returns (X-Notification-Id, else our Message-ID) or by
 * the envelope id we gave at MAIL FROM (Original-Envelope-Id), and what became of it.
 * `failed` is a failure (permanent when its status says the address is gone, ADDRESS_GONE),
 * `delivered`, `relayed` and `expanded` a delivery, `delayed` no report yet. Our messages
 * have one recipient each: of several, a failure counts before a delivery.
 *
 * Not read: bounces in no standard form (qmail's, old Exim's and Lotus' plain-text ones,
 * which only people can read reliably), and feedback reports (RFC 5965), complaints that come
 * to another address.
 */
export async function parseDsn(
  raw: Buffer | string,
  provider: string,
  now = new Date(),
): Promise<DsnReading> {
  let parts: { status: Attachment | undefined; returned: Attachment | undefined; date: Date | undefined };
  try {
    // The report part stays an attachment of its own, not text run into the human part.
    const parsed = await simpleParser(raw, {
      keepDeliveryStatus: true,
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipImageLinks: true,
      skipTextLinks: true,
    });
    parts = {
      status: parsed.attachments.find((part) => STATUS_TYPES.has(part.contentType.toLowerCase())),
      returned: parsed.attachments.find((part) => RETURNED_TYPES.has(part.contentType.toLowerCase())),
      date: parsed.date,
    };
  } catch {
    return { ignored: "unparseable" };
  }
  if (!parts.status) return { ignored: "not_a_dsn" };
  const groups = fieldGroups(parts.status.content.toString("utf8"));
  const recipients = groups.filter((group) => group.has("action"));
  if (recipients.length === 0) return { ignored: "unparseable" };
  const perMessage = groups.find((group) => !group.has("action"));
  const messageId =
    (parts.returned && ourIdInHeaders(parts.returned.content.toString("utf8"))) ?? envelopeIdOf(perMessage);
  if (!messageId) return { ignored: "not_ours" };

  const outcomes = recipients.map((fields) => ({ fields, outcome: outcomeOf(fields) }));
  const final =
    outcomes.find(({ outcome }) => outcome?.kind === "failed") ??
    outcomes.find(({ outcome }) => outcome?.kind === "delivered");
  if (!final?.outcome) {
    return outcomes.some(({ outcome }) => outcome === undefined)
      ? { ignored: "unparseable" }
      : { ignored: "no_final_status" };
  }
  const at = earliest(dateOf(final.fields.get("last-attempt-date")) ?? parts.date, now);
  const { outcome } = final;
  return {
    reports: [
      outcome.kind === "failed"
        ? { provider, messageId, at, kind: "failed", reason: outcome.reason, permanent: outcome.permanent }
        : { provider, messageId, at, kind: "delivered" },
    ],
  };
}

type RecipientOutcome =
  | { kind: "failed"; reason: string; permanent: boolean }
  | { kind: "delivered" }
  | { kind: "delayed" };

/** One recipient's Action and Status as a report, or undefined for an action RFC 3464 does not have. */
function outcomeOf(fields: Map<string, string>): RecipientOutcome | undefined {
  // "failed" and the rest, sometimes with a comment after them.
  const action = /^[a-z]+/i.exec(fields.get("action") ?? "")?.[0]?.toLowerCase();
  switch (action) {
    case "delivered":
    case "relayed":
    case "expanded":
      return { kind: "delivered" };
    case "delayed":
      return { kind: "delayed" };
    case "failed":
      break;
    default:
      return undefined;
  }
  const diagnostic = (fields.get("diagnostic-code") ?? "").replace(/^[\w-]+\s*;\s*/, "");
  const stated = STATUS_CODE.exec(fields.get("status") ?? "");
  // A relay that gives only the class (5.0.0) often quotes the remote server's exact status.
  const quoted = STATUS_CODE.exec(diagnostic);
  const code =
    stated && stated[2] === "0" && stated[3] === "0" && quoted && quoted[1] === stated[1] ? quoted : stated;
  const status = code ? `${code[1]}.${code[2]}.${code[3]}` : "unknown status";
  const text = `${status} ${diagnostic}`.replace(/\s+/g, " ").trim();
  return {
    kind: "failed",
    reason: redactErrorText(text).slice(0, MAX_REASON_LENGTH),
    // A 4.x.x here is a relay that kept trying and gave up: final for this message, the address unknown.
    permanent: code !== null && saysAddressGone(status),
  };
}

/**
 * The groups of `name: value` fields of a report part, separated by blank lines, folded lines
 * joined, names in lower case: the per-message fields first, then one group per recipient.
 */
function fieldGroups(text: string): Map<string, string>[] {
  const groups: Map<string, string>[] = [];
  let group = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      if (group.size > 0) groups.push(group);
      group = new Map();
      last = undefined;
    } else if (/^[ \t]/.test(line) && last !== undefined) {
      group.set(last, `${group.get(last)} ${line.trim()}`);
    } else {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      if (!group.has(last)) group.set(last, line.slice(colon + 1).trim());
      else last = undefined;
    }
  }
  if (group.size > 0) groups.push(group);
  return groups;
}

/** Our message id in the returned message's headers: X-Notification-Id, else our Message-ID. */
function ourIdInHeaders(text: string): string | undefined {
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? "";
  const [headers] = fieldGroups(head);
  const notificationId = headers?.get("x-notification-id") ?? "";
  if (UUID.test(notificationId)) return notificationId.toLowerCase();
  return OUR_MESSAGE_ID.exec(headers?.get("message-id") ?? "")?.[1]?.toLowerCase();
}

/** The envelope id we gave at MAIL FROM (RFC 3461 ENVID), xtext decoded, if it is one of ours. */
function envelopeIdOf(perMessage: Map<string, string> | undefined): string | undefined {
  const xtext = perMessage?.get("original-envelope-id") ?? "";
  const id = xtext.replace(/\+([0-9A-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  return UUID.test(id) ? id.toLowerCase() : undefined;
}

function dateOf(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** `date`, unless it is missing or later than `now`: a relay's clock says nothing of ours. */
function earliest(date: Date | undefined, now: Date): Date {
  return date && date.getTime() < now.getTime() ? date : now;
}

/** What one round of reading the bounce mailbox did: counts only, never an address. */
export interface BounceRound {
  /** Messages the mailbox held at the start of the round. */
  inMailbox: number;
  read: number;
  deleted: number;
  /** Reports taken from notifications, and what applying them did. */
  reports: number;
  matched: number;
  unknown: number;
  statusChanges: number;
  suppressed: number;
  /** Messages passed over, by why; deleted all the same. */
  ignored: Record<DsnIgnored | "oversized", number>;
}

export interface SmtpBounceReaderOptions {
  /** The SMTP provider whose bounces these are: the reports carry its name. */
  provider: string;
  mailbox: Mailbox;
  /** The most messages read in one round (100 by default); the rest wait for the next. */
  messagesPerRound?: number;
}

/**
 * The bounce path of an SMTP provider: the delivery status notifications relays mail to its
 * envelope sender's mailbox, read a round at a time. Each message's reports are applied before
 * it is deleted; one that is no report of ours is deleted and counted. When applying fails the
 * round stops there: that message stays for the next round, the ones before it are gone.
 */
export class SmtpBounceReader {
  readonly provider: string;
  private readonly mailbox: Mailbox;
  private readonly messagesPerRound: number;

  constructor(options: SmtpBounceReaderOptions) {
    if (!options.provider) throw new Error("a bounce reader needs its provider's name");
    const perRound = options.messagesPerRound ?? 100;
    if (!(Number.isInteger(perRound) && perRound >= 1)) {
      throw new Error(
        `${options.provider}: messagesPerRound must be a whole number above 0, got ${perRound}`,
      );
    }
    this.provider = options.provider;
    this.mailbox = options.mailbox;
    this.messagesPerRound = perRound;
  }

  async read(apply: (reports: ProviderReport[]) => Promise<FeedbackOutcome>): Promise<BounceRound> {
    const round: BounceRound = {
      inMailbox: 0,
      read: 0,
      deleted: 0,
      reports: 0,
      matched: 0,
      unknown: 0,
      statusChanges: 0,
      suppressed: 0,
      ignored: { not_a_dsn: 0, not_ours: 0, no_final_status: 0, unparseable: 0, oversized: 0 },
    };
    const handle = async (message: MailboxMessage): Promise<"delete"> => {
      if (message.raw === undefined) {
        round.ignored.oversized++;
        return "delete";
      }
      const reading = await parseDsn(message.raw, this.provider);
      if ("ignored" in reading) {
        round.ignored[reading.ignored]++;
        return "delete";
      }
      const outcome = await apply(reading.reports);
      round.reports += reading.reports.length;
      round.matched += outcome.matched;
      round.unknown += outcome.unknown;
      round.statusChanges += outcome.statusChanges;
      round.suppressed += outcome.suppressed;
      return "delete";
    };
    const session = await this.mailbox.read(this.messagesPerRound, handle);
    return { ...round, inMailbox: session.inMailbox, read: session.read, deleted: session.deleted };
  }
}
