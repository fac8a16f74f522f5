import { randomBytes } from "node:crypto";

/** How the SMTP peer bounces a recipient it took with a 250. */
export interface LaterBounce {
  /** `failed` (the default): the relay gave up; `delayed`: it is still trying. */
  action?: "failed" | "delayed";
  /** RFC 3463 status: 5.1.1 (no such mailbox) for a failure, 4.4.1 (no answer) for a delay, unless told. */
  status?: string;
  /** The remote server's words, as an SMTP reply ("550 5.1.1 …"); one fitting the status unless told. */
  diagnostic?: string;
}

/** One recipient's part of a report. */
export interface DsnRecipient {
  address: string;
  /** ORCPT as the client gave it at RCPT TO ("rfc822;anna@example.org"), if it did. */
  originalRecipient?: string | undefined;
  bounce: LaterBounce;
}

export interface DsnInput {
  /** The host name the report comes from. */
  reportingMta: string;
  queueId: string;
  /** The envelope sender the report goes to. */
  to: string;
  arrivedAt: Date;
  /** ENVID as the client gave it at MAIL FROM, already xtext as it came. */
  envelopeId?: string | null | undefined;
  /** RET=FULL or no RET: the whole message comes back; RET=HDRS: only its headers. */
  returnFull: boolean;
  /** The message as it was sent after DATA. */
  original: Buffer;
  recipients: DsnRecipient[];
}

/** The status and diagnostic a bounce gives, its defaults filled in. */
export function bounceOf(bounce: LaterBounce, address: string): Required<LaterBounce> {
  const action = bounce.action ?? "failed";
  const status = bounce.status ?? (action === "failed" ? "5.1.1" : "4.4.1");
  const domain = address.split("@")[1] ?? "example.net";
  const diagnostic =
    bounce.diagnostic ??
    (status === "5.1.1"
      ? `550 5.1.1 <${address}>: Recipient address rejected: User unknown in virtual mailbox table`
      : action === "delayed"
        ? `connect to mx.${domain}[192.0.2.25]:25: Connection timed out`
        : `${status.startsWith("4") ? 451 : 550} ${status} delivery failed`);
  return { action, status, diagnostic };
}

/**
 * A delivery status notification (RFC 3464) as Postfix writes one: a multipart/report of
 * report-type delivery-status with a note for people, the machine-readable report (the
 * per-message fields, then one group per recipient) and the original message or its headers.
 */
export function deliveryStatusNotification(input: DsnInput): string {
  const boundary = `${input.queueId}.${Math.floor(input.arrivedAt.getTime() / 1000)}/${input.reportingMta}`;
  const now = new Date();
  const bounces = input.recipients.map((recipient) => ({
    ...recipient,
    ...bounceOf(recipient.bounce, recipient.address),
  }));
  const failed = bounces.some((each) => each.action === "failed");
  const mta = `dns; ${input.reportingMta}`;
  const perMessage = [
    `Reporting-MTA: ${mta}`,
    `X-Peer-Queue-ID: ${input.queueId}`,
    ...(input.envelopeId ? [`Original-Envelope-Id: ${input.envelopeId}`] : []),
    `Arrival-Date: ${input.arrivedAt.toUTCString()}`,
  ];
  const perRecipient = bounces.map((each) => [
    `Final-Recipient: rfc822; ${each.address}`,
    ...(each.originalRecipient ? [`Original-Recipient: ${each.originalRecipient}`] : []),
    `Action: ${each.action}`,
    `Status: ${each.status}`,
    `Remote-MTA: dns; mx.${each.address.split("@")[1] ?? "example.net"}`,
    `Diagnostic-Code: smtp; ${each.diagnostic}`,
    each.action === "failed"
      ? `Last-Attempt-Date: ${now.toUTCString()}`
      : `Will-Retry-Until: ${new Date(now.getTime() + 5 * 86_400_000).toUTCString()}`,
  ]);
  const note = failed
    ? [
        `This is the mail system at host ${input.reportingMta}.`,
        "",
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients.",
      ]
    : [
        "####### THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #######",
        "",
        `This is the mail system at host ${input.reportingMta}.`,
        "Your message could not be delivered for a while. It will be retried.",
      ];
  const original = input.original.toString("utf8");
  const headerEnd = original.search(/\r?\n\r?\n/);
  const returned = input.returnFull
    ? ["Content-Description: Undelivered Message", "Content-Type: message/rfc822", "", original]
    : [
        "Content-Description: Undelivered Message Headers",
        "Content-Type: text/rfc822-headers",
        "",
        headerEnd < 0 ? original : original.slice(0, headerEnd),
      ];
  return [
    `Date: ${now.toUTCString()}`,
    `From: MAILER-DAEMON@${input.reportingMta} (Mail Delivery System)`,
    `To: ${input.to}`,
    `Subject: ${failed ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)"}`,
    `Message-ID: <${now.getTime()}.${randomBytes(4).toString("hex")}.${input.queueId}@${input.reportingMta}>`,
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"`,
    "",
    "This is a MIME-encapsulated message.",
    "",
    `--${boundary}`,
    "Content-Description: Notification",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    ...note,
    "",
    ...bounces.map((each) => `<${each.address}>: ${each.diagnostic}`),
    "",
    `--${boundary}`,
    "Content-Description: Delivery report",
    "Content-Type: message/delivery-status",
    "",
    ...perMessage,
    "",
    ...perRecipient.flatMap((fields) => [...fields, ""]),
    `--${boundary}`,
    ...returned,
    "",
    `--${boundary}--`,
    "",
  ].join("\r\n");
}
