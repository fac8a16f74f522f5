import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fingerprint } from "../../../core/personal-data.ts";
import { parseDsn } from "../../../dispatch/providers/smtp-bounces.ts";

// Delivery status notifications as relays mail them back: a Postfix bounce as it comes, and
// variations of one report on its fields.
const provider = "email-primary";
const ours = "0f8e9d4c-1b2a-4c3d-9e8f-7a6b5c4d3e2f";
const now = new Date("2025-01-14T12:00:00Z");

// Postfix 3.x, word for word but for the names: the original's headers returned (RET=HDRS).
const POSTFIX_BOUNCE = `Return-Path: <>
Received: by mx.notify.example.ru (Postfix) id 4Z3Lq5XyZ; Tue, 14 Jan 2025 10:00:02 +0300 (MSK)
Date: Tue, 14 Jan 2025 10:00:02 +0300 (MSK)
From: MAILER-DAEMON@mx.notify.example.ru (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: noreply@notify.example.ru
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4Z3Lq5XyZ.1736838002/mx.notify.example.ru"
Content-Transfer-Encoding: 8bit
Message-Id: <20250114070002.4Z3Lq5XyZ@mx.notify.example.ru>

This is a MIME-encapsulated message.

--4Z3Lq5XyZ.1736838002/mx.notify.example.ru
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.notify.example.ru.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<ivan.petrov@example.com>: host mx.example.com[203.0.113.5] said: 550 5.1.1
    <ivan.petrov@example.com>: Recipient address rejected: User unknown (in
    reply to RCPT TO command)

--4Z3Lq5XyZ.1736838002/mx.notify.example.ru
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.notify.example.ru
X-Postfix-Queue-ID: 4Z3Lq5XyZ
X-Postfix-Sender: rfc822; noreply@notify.example.ru
Arrival-Date: Tue, 14 Jan 2025 10:00:01 +0300 (MSK)

Final-Recipient: rfc822; ivan.petrov@example.com
Original-Recipient: rfc822;ivan.petrov@example.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 5.1.1 <ivan.petrov@example.com>: Recipient address
    rejected: User unknown

--4Z3Lq5XyZ.1736838002/mx.notify.example.ru
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

Return-Path: <noreply@notify.example.ru>
From: =?UTF-8?B?0J/Qu9Cw0YLRhNC+0YDQvNCw?= <noreply@notify.example.ru>
To: ivan.petrov@example.com
Subject: =?UTF-8?B?0JfQsNC60LDQtw==?=
Message-ID: <${ours}@notify.example.ru>
X-Notification-Id: ${ours}
Date: Tue, 14 Jan 2025 07:00:00 +0000
MIME-Version: 1.0

--4Z3Lq5XyZ.1736838002/mx.notify.example.ru--
`.replace(/\n/g, "\r\n");

interface Variation {
  perMessage?: string[];
  recipients?: string[][];
  /** The returned part: its content type and text, or none. */
  returned?: { type: string; text: string } | null;
  contentType?: string;
}

/** A DSN as RFC 3464 lays it out, its fields as given. */
function dsn(variation: Variation = {}): string {
  const boundary = "b-1";
  const perMessage = variation.perMessage ?? ["Reporting-MTA: dns; relay.example.net"];
  const recipients = variation.recipients ?? [
    ["Final-Recipient: rfc822; anna@example.org", "Action: failed", "Status: 5.1.1"],
  ];
  const returned =
    variation.returned === undefined
      ? {
          type: "text/rfc822-headers",
          text: `Message-ID: <${ours}@notify.example.ru>\nX-Notification-Id: ${ours}\n`,
        }
      : variation.returned;
  return [
    "From: Mail Delivery Subsystem <mailer-daemon@relay.example.net>",
    "To: noreply@notify.example.ru",
    "Date: Tue, 14 Jan 2025 09:00:00 +0000",
    "Subject: Delivery Status Notification",
    "MIME-Version: 1.0",
    `Content-Type: ${variation.contentType ?? `multipart/report; report-type=delivery-status; boundary="${boundary}"`}`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain",
    "",
    "A message could not be delivered.",
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "",
    ...perMessage,
    "",
    ...recipients.flatMap((fields) => [...fields, ""]),
    ...(returned ? [`--${boundary}`, `Content-Type: ${returned.type}`, "", returned.text] : []),
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

const failedWith = (status: string, diagnostic?: string) =>
  dsn({
    recipients: [
      [
        "Final-Recipient: rfc822; anna@example.org",
        "Action: failed",
        `Status: ${status}`,
        ...(diagnostic ? [`Diagnostic-Code: smtp; ${diagnostic}`] : []),
      ],
    ],
  });

describe("parseDsn", () => {
  it("reads a Postfix bounce: our message by its X-Notification-Id, a hard bounce with the relay's words, the address hidden", async () => {
    const reading = await parseDsn(POSTFIX_BOUNCE, provider, now);
    expect(reading).toEqual({
      reports: [
        {
          provider,
          messageId: ours,
          at: new Date("2025-01-14T07:00:02Z"),
          kind: "failed",
          permanent: true,
          reason: `5.1.1 550 5.1.1 <${fingerprint("ivan.petrov@example.com")}>: Recipient address rejected: User unknown`,
        },
      ],
    });
    expect(JSON.stringify(reading)).not.toContain("ivan.petrov");
  });

  it("finds our message by our Message-ID in a returned message, or by the envelope id given at MAIL FROM", async () => {
    const full = dsn({
      returned: {
        type: "message/rfc822",
        text: `From: noreply@notify.example.ru\r\nMessage-ID: <${ours}@notify.example.ru>\r\nSubject: x\r\n\r\nX-Notification-Id: ${randomUUID()} (the body, not a header)\r\n`,
      },
    });
    expect(await parseDsn(full, provider, now)).toMatchObject({ reports: [{ messageId: ours }] });

    const envelopeOnly = dsn({
      perMessage: ["Reporting-MTA: dns; relay.example.net", `Original-Envelope-Id: ${ours.toUpperCase()}`],
      returned: null,
    });
    expect(await parseDsn(envelopeOnly, provider, now)).toMatchObject({ reports: [{ messageId: ours }] });
  });

  it("passes over a report of someone else's message, and one that names none", async () => {
    const foreign = dsn({
      returned: { type: "text/rfc822-headers", text: "Message-ID: <CAF=abc123@mail.example.org>\n" },
    });
    expect(await parseDsn(foreign, provider, now)).toEqual({ ignored: "not_ours" });
    expect(await parseDsn(dsn({ returned: null }), provider, now)).toEqual({ ignored: "not_ours" });
  });

  it("gives no report for a delay: the relay tries again and reports the end", async () => {
    const delayed = dsn({
      recipients: [
        [
          "Final-Recipient: rfc822; anna@example.org",
          "Action: delayed",
          "Status: 4.4.1",
          "Diagnostic-Code: X-Postfix; connect to mx.example.org[198.51.100.7]:25: Connection timed out",
          "Will-Retry-Until: Fri, 17 Jan 2025 09:00:00 +0000",
        ],
      ],
    });
    expect(await parseDsn(delayed, provider, now)).toEqual({ ignored: "no_final_status" });
  });

  it("reads a success notification as delivered, at its last attempt", async () => {
    const delivered = dsn({
      recipients: [
        [
          "Final-Recipient: rfc822; anna@example.org",
          "Action: delivered (to mailbox)",
          "Status: 2.0.0",
          "Last-Attempt-Date: Tue, 14 Jan 2025 08:59:58 +0000",
        ],
      ],
    });
    expect(await parseDsn(delivered, provider, now)).toEqual({
      reports: [{ provider, messageId: ours, at: new Date("2025-01-14T08:59:58Z"), kind: "delivered" }],
    });
    const relayed = dsn({
      recipients: [["Final-Recipient: rfc822; anna@example.org", "Action: relayed", "Status: 2.0.0"]],
    });
    expect(await parseDsn(relayed, provider, now)).toMatchObject({ reports: [{ kind: "delivered" }] });
  });

  it("suppresses only statuses that say the address is gone, per RFC 3463", async () => {
    const permanentOf = async (status: string, diagnostic?: string) => {
      const reading = await parseDsn(failedWith(status, diagnostic), provider, now);
      if (!("reports" in reading)) throw new Error(`no report for ${status}: ${reading.ignored}`);
      const [report] = reading.reports;
      if (report?.kind !== "failed") throw new Error(`not a failure: ${JSON.stringify(report)}`);
      return [report.permanent, report.reason];
    };
    expect(await permanentOf("5.1.1")).toEqual([true, "5.1.1"]);
    expect((await permanentOf("5.1.2"))[0]).toBe(true);
    expect((await permanentOf("5.1.10"))[0]).toBe(true);
    expect((await permanentOf("5.2.1", "550 5.2.1 mailbox disabled"))[0]).toBe(true);
    // The class alone, the remote server's exact status quoted in the diagnostic.
    expect(await permanentOf("5.0.0", "550 5.1.1 user unknown")).toEqual([
      true,
      "5.1.1 550 5.1.1 user unknown",
    ]);
    // This message refused, the address not said to be dead.
    expect(await permanentOf("5.2.2", "552 5.2.2 mailbox full")).toEqual([
      false,
      "5.2.2 552 5.2.2 mailbox full",
    ]);
    expect((await permanentOf("5.7.1", "554 5.7.1 rejected as spam"))[0]).toBe(false);
    expect((await permanentOf("5.1.8", "553 5.1.8 sender domain does not exist"))[0]).toBe(false);
    expect((await permanentOf("5.0.0", "550 mailbox unavailable"))[0]).toBe(false);
    // A relay that gave up after days of trying: final for the message, the address unknown.
    expect((await permanentOf("4.4.7", "delivery time expired"))[0]).toBe(false);
    // No status at all.
    const bare = dsn({ recipients: [["Final-Recipient: rfc822; anna@example.org", "Action: failed"]] });
    expect(await parseDsn(bare, provider, now)).toMatchObject({
      reports: [{ kind: "failed", permanent: false, reason: "unknown status" }],
    });
  });

  it("counts a failure before a delivery when one report names several recipients", async () => {
    const mixed = dsn({
      recipients: [
        ["Final-Recipient: rfc822; a@example.org", "Action: delivered", "Status: 2.0.0"],
        ["Final-Recipient: rfc822; b@example.org", "Action: delayed", "Status: 4.4.1"],
        ["Final-Recipient: rfc822; c@example.org", "Action: failed", "Status: 5.1.1"],
      ],
    });
    expect(await parseDsn(mixed, provider, now)).toMatchObject({
      reports: [{ kind: "failed", permanent: true }],
    });
  });

  it("is not fooled by mail that is no report, nor by a report without recipients", async () => {
    const autoReply = [
      "From: anna@example.org",
      "To: noreply@notify.example.ru",
      "Subject: Out of office",
      `In-Reply-To: <${ours}@notify.example.ru>`,
      "Content-Type: text/plain",
      "",
      "I am away until Monday. Status: 5.1.1",
      "",
    ].join("\r\n");
    expect(await parseDsn(autoReply, provider, now)).toEqual({ ignored: "not_a_dsn" });
    expect(await parseDsn(Buffer.from([0xff, 0x00, 0x13]), provider, now)).toEqual({ ignored: "not_a_dsn" });
    const noRecipients = dsn({ recipients: [] });
    expect(await parseDsn(noRecipients, provider, now)).toEqual({ ignored: "unparseable" });
    const unknownAction = dsn({
      recipients: [["Final-Recipient: rfc822; a@example.org", "Action: bounced", "Status: 5.1.1"]],
    });
    expect(await parseDsn(unknownAction, provider, now)).toEqual({ ignored: "unparseable" });
  });

  it("takes the report's time from the notification, never later than now", async () => {
    const future = dsn({
      recipients: [
        [
          "Final-Recipient: rfc822; anna@example.org",
          "Action: failed",
          "Status: 5.1.1",
          "Last-Attempt-Date: Sat, 1 Jan 2050 00:00:00 +0000",
        ],
      ],
    });
    expect(await parseDsn(future, provider, now)).toMatchObject({ reports: [{ at: now }] });
    // No Last-Attempt-Date: the notification's Date.
    expect(await parseDsn(failedWith("5.1.1"), provider, now)).toMatchObject({
      reports: [{ at: new Date("2025-01-14T09:00:00Z") }],
    });
  });
});
