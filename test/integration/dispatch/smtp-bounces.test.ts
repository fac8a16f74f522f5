import { randomUUID } from "node:crypto";
import { createServer as createTlsServer, type Server } from "node:tls";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fingerprint } from "../../../core/personal-data.ts";
import type { FeedbackOutcome, ProviderReport } from "../../../core/sending/index.ts";
import {
  Pop3Mailbox,
  type Pop3MailboxOptions,
  SmtpBounceReader,
  SmtpEmailProvider,
} from "../../../dispatch/index.ts";
import {
  type Pop3MailboxPeer,
  type SmtpPeer,
  startPop3MailboxPeer,
  startSmtpPeer,
} from "../../../scripts/provider-peers/index.ts";
import { selfSignedCertificate } from "../../../scripts/provider-peers/self-signed.ts";
import { deliveryStatusNotification } from "../../../scripts/provider-peers/smtp-dsn.ts";
import { email } from "../../support/provider-peers.ts";

// The SMTP bounce path against real servers on local ports: the SMTP provider sends to the SMTP
// peer, which takes the message with a 250 and later mails a delivery status notification to
// the sender's mailbox; the POP3 reader fetches it from there, the reader of bounces makes it a
// report of our message, and the mailbox loses it once the report is applied.
const credentials = { user: "notifier", password: "peer-password-1" };
const name = "email-primary";
let peer: SmtpPeer;
let provider: SmtpEmailProvider;
const extraPeers: Pop3MailboxPeer[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  peer = await startSmtpPeer({ ...credentials, bounceDelayMs: 50 });
  provider = new SmtpEmailProvider({
    name,
    host: peer.host,
    port: peer.port,
    security: "starttls",
    tls: { ca: peer.ca },
    auth: credentials,
    from: { address: "noreply@notify.example.ru" },
  });
});
afterAll(async () => {
  await provider.close();
  await Promise.all([peer.close(), ...extraPeers.map((extra) => extra.close())]);
  for (const server of servers) server.close();
});
beforeEach(() => {
  peer.clear();
  peer.bounces.clear();
});
afterEach(() => {
  peer.setFault({ mode: "none" });
});

function mailbox(
  overrides: Partial<Pop3MailboxOptions> = {},
  of: Pop3MailboxPeer = peer.bounces,
): Pop3Mailbox {
  return new Pop3Mailbox({
    name: `${name} bounces`,
    host: of.host,
    port: of.port,
    security: "implicit",
    user: credentials.user,
    password: credentials.password,
    tls: { ca: of.ca },
    timeoutMs: 5_000,
    ...overrides,
  });
}

/** Applies like ProviderFeedback would, keeping what it was given: every report matched. */
function recorder() {
  const applied: ProviderReport[] = [];
  const apply = async (reports: ProviderReport[]): Promise<FeedbackOutcome> => {
    applied.push(...reports);
    return {
      matched: reports.length,
      unknown: 0,
      statusChanges: reports.length,
      suppressed: 0,
      unsubscribed: 0,
    };
  };
  return { applied, apply };
}

/** Sends to `to` through the provider and waits for the peer's report of it in the mailbox. */
async function sendAndBounce(to: string) {
  const message = email({}, to);
  const outcome = await provider.send(message);
  const dsn = await peer.bounces.waitFor((item) => item.raw.includes(message.messageId));
  return { message, outcome, dsn };
}

describe("the SMTP bounce path", () => {
  it("reads a bounce of a message the relay took with a 250 as a hard bounce of ours, and deletes it once applied", async () => {
    const to = `gone-${randomUUID()}@example.org`;
    peer.bounceAfterAccepting([to]);
    const { message, outcome, dsn } = await sendAndBounce(to);
    // The relay's queue id names the send: the report can only find it by our id.
    const [received] = peer.messages();
    expect(outcome).toEqual({ status: "sent", providerMessageId: received?.queueId });
    expect(received?.queueId).not.toBe(message.messageId);
    // What the provider asked for at MAIL FROM: our id back, and the headers without the body.
    expect(dsn.raw).toMatch(/^Content-Type: multipart\/report; report-type=delivery-status;/m);
    expect(dsn.raw).toContain(`\r\nOriginal-Envelope-Id: ${message.messageId}\r\n`);
    expect(dsn.raw).toContain("\r\nContent-Type: text/rfc822-headers\r\n");
    expect(dsn.raw.toLowerCase()).toContain(`\r\nx-notification-id: ${message.messageId}\r\n`);
    expect(dsn.raw).not.toContain("Спасибо за покупку");

    const { applied, apply } = recorder();
    const round = await new SmtpBounceReader({ provider: name, mailbox: mailbox() }).read(apply);
    expect(applied).toEqual([
      {
        provider: name,
        messageId: message.messageId,
        at: expect.any(Date),
        kind: "failed",
        permanent: true,
        reason: `5.1.1 550 5.1.1 <${fingerprint(to)}>: Recipient address rejected: User unknown in virtual mailbox table`,
      },
    ]);
    expect(round).toMatchObject({ inMailbox: 1, read: 1, deleted: 1, reports: 1, matched: 1 });
    expect(peer.bounces.held()).toEqual([]);
    expect(peer.bounces.removed().map((item) => item.uid)).toEqual([dsn.uid]);
  });

  it("bounces only the addresses marked and reports only what was asked for; a delay is no report yet, other mail is deleted and counted", async () => {
    const kept = `kept-${randomUUID()}@example.org`;
    const delayed = `slow-${randomUUID()}@example.org`;
    const failedForPolicy = `policy-${randomUUID()}@example.org`;
    peer.bounceAfterAccepting([delayed], { action: "delayed" });
    peer.bounceAfterAccepting([failedForPolicy], {
      status: "5.7.1",
      diagnostic: "554 5.7.1 rejected as spam",
    });
    const slow = email({}, delayed);
    expect((await provider.send(email({}, kept))).status).toBe("sent");
    expect((await provider.send(slow)).status).toBe("sent");
    const policy = await sendAndBounce(failedForPolicy);
    // The provider asked for failures only (NOTIFY=FAILURE): the peer keeps its delay to itself,
    // as it does of the address not marked. A relay that ignores NOTIFY sends one all the same.
    expect(peer.bounces.held()).toHaveLength(1);
    peer.bounces.deliver(
      deliveryStatusNotification({
        reportingMta: "relay.example.net",
        queueId: "4Z3Lq5",
        to: "noreply@notify.example.ru",
        arrivedAt: new Date(),
        returnFull: false,
        original: Buffer.from(
          `Message-ID: <${slow.messageId}@notify.example.ru>\r\nSubject: x\r\n\r\nbody\r\n`,
        ),
        recipients: [{ address: delayed, bounce: { action: "delayed" } }],
      }),
    );
    peer.bounces.deliver("From: anna@example.org\r\nSubject: Out of office\r\n\r\nI am away.\r\n");

    const { applied, apply } = recorder();
    const round = await new SmtpBounceReader({ provider: name, mailbox: mailbox() }).read(apply);
    expect(applied).toEqual([
      expect.objectContaining({
        messageId: policy.message.messageId,
        kind: "failed",
        permanent: false,
        reason: "5.7.1 554 5.7.1 rejected as spam",
      }),
    ]);
    expect(round).toMatchObject({
      inMailbox: 3,
      read: 3,
      deleted: 3,
      reports: 1,
      ignored: { not_a_dsn: 1, not_ours: 0, no_final_status: 1, unparseable: 0, oversized: 0 },
    });
    expect(peer.bounces.held()).toEqual([]);
  });

  it("keeps a bounce whose report could not be applied for the next round, and deletes the ones applied before it", async () => {
    const first = `first-${randomUUID()}@example.org`;
    const second = `second-${randomUUID()}@example.org`;
    peer.bounceAfterAccepting([first, second]);
    await sendAndBounce(first);
    const later = await sendAndBounce(second);
    let calls = 0;
    const failingOnTheSecond = async (reports: ProviderReport[]): Promise<FeedbackOutcome> => {
      calls++;
      if (calls === 2) throw new Error("the database is down");
      return { matched: reports.length, unknown: 0, statusChanges: 0, suppressed: 0, unsubscribed: 0 };
    };
    const reader = new SmtpBounceReader({ provider: name, mailbox: mailbox() });
    await expect(reader.read(failingOnTheSecond)).rejects.toThrow("the database is down");
    expect(peer.bounces.held().map((item) => item.uid)).toEqual([later.dsn.uid]);

    const { applied, apply } = recorder();
    expect(await reader.read(apply)).toMatchObject({ inMailbox: 1, deleted: 1 });
    expect(applied.map((report) => report.messageId)).toEqual([later.message.messageId]);
  });

  it("reads no more than a round's worth, oldest first, and skips a message too large to fetch", async () => {
    const addresses = [1, 2, 3].map((index) => `many-${index}-${randomUUID()}@example.org`);
    peer.bounceAfterAccepting(addresses);
    const sent: Awaited<ReturnType<typeof sendAndBounce>>[] = [];
    for (const address of addresses) sent.push(await sendAndBounce(address));
    const { applied, apply } = recorder();
    const round = await new SmtpBounceReader({
      provider: name,
      mailbox: mailbox(),
      messagesPerRound: 2,
    }).read(apply);
    expect(round).toMatchObject({ inMailbox: 3, read: 2, deleted: 2 });
    expect(applied.map((report) => report.messageId)).toEqual(
      sent.slice(0, 2).map((each) => each.message.messageId),
    );

    const small = new SmtpBounceReader({ provider: name, mailbox: mailbox({ maxMessageBytes: 500 }) });
    const skipped = await small.read(apply);
    expect(skipped).toMatchObject({ read: 1, deleted: 1, reports: 0, ignored: { oversized: 1 } });
    expect(applied).toHaveLength(2);
    expect(peer.bounces.held()).toEqual([]);
  });

  it("logs in with the mailbox's password only, and says so without it", async () => {
    const to = `login-${randomUUID()}@example.org`;
    peer.bounceAfterAccepting([to]);
    await sendAndBounce(to);
    const logins = peer.bounces.logins();
    const wrong = mailbox({ password: "not-the-password" });
    const error = await wrong.read(10, async () => "delete").catch((caught: unknown) => caught);
    expect(String(error)).toMatch(
      /email-primary bounces: the login \(PASS\) refused: \[AUTH\] invalid login/,
    );
    expect(String(error)).not.toContain("not-the-password");
    expect(peer.bounces.held()).toHaveLength(1);
    expect(peer.bounces.logins()).toBe(logins);
  });

  it("holds the mailbox for one session at a time, as RFC 1939 locks a maildrop", async () => {
    const to = `lock-${randomUUID()}@example.org`;
    peer.bounceAfterAccepting([to]);
    await sendAndBounce(to);
    let release: () => void = () => undefined;
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const first = mailbox().read(10, async () => {
      entered();
      await holding;
      return "keep";
    });
    await inside;
    await expect(mailbox().read(10, async () => "delete")).rejects.toThrow(/\[IN-USE\]/);
    release();
    expect(await first).toEqual({ inMailbox: 1, read: 1, deleted: 0 });
    expect(peer.bounces.held()).toHaveLength(1);
  });

  it("turns a plain connection to TLS with STLS before the login, and trusts only the certificate it was given", async () => {
    const certificate = await selfSignedCertificate();
    const stls = await startPop3MailboxPeer({ ...credentials, certificate, tls: "stls" });
    extraPeers.push(stls);
    stls.deliver("From: someone@example.org\r\nSubject: hello\r\n\r\nNot a bounce.\r\n");
    const seen: (Buffer | undefined)[] = [];
    const session = await mailbox({ security: "starttls" }, stls).read(10, async (message) => {
      seen.push(message.raw);
      return "delete";
    });
    expect(session).toEqual({ inMailbox: 1, read: 1, deleted: 1 });
    expect(seen.map((raw) => raw?.toString())).toEqual([
      "From: someone@example.org\r\nSubject: hello\r\n\r\nNot a bounce.\r\n",
    ]);
    expect(stls.held()).toEqual([]);

    const untrusted = mailbox({ security: "starttls", tls: { ca: peer.ca } }, stls);
    await expect(untrusted.read(10, async () => "delete")).rejects.toThrow(/certificate/);
  });

  it("gives up on a server that stops answering, within its timeout", async () => {
    const certificate = await selfSignedCertificate();
    // Greets, then says nothing more.
    const silent = createTlsServer(certificate, (socket) => socket.write("+OK ready\r\n"));
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const started = Date.now();
    const reading = new Pop3Mailbox({
      name: "silent",
      host: "127.0.0.1",
      port,
      security: "implicit",
      user: "u",
      password: "p",
      tls: { ca: certificate.cert },
      timeoutMs: 300,
    }).read(10, async () => "delete");
    await expect(reading).rejects.toThrow("silent: no answer within 300 ms");
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
