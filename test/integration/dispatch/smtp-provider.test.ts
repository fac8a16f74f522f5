import { generateKeyPairSync, randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fingerprint } from "../../../core/personal-data.ts";
import { SmtpEmailProvider, type SmtpProviderOptions } from "../../../dispatch/index.ts";
import { type SmtpPeer, type SmtpPeerOptions, startSmtpPeer } from "../../../scripts/provider-peers/index.ts";
import { EMAIL_RECIPIENT, email, resetPeersBeforeEach } from "../../support/provider-peers.ts";
import { freePort } from "../../support/service-process.ts";

// The SMTP provider against a real SMTP server on a local port (scripts/provider-peers), which
// parses what it accepts as a mailbox would and misbehaves when told to.
const credentials = { user: "notifier", password: "peer-password-1" };
let peer: SmtpPeer;
const extraPeers: SmtpPeer[] = [];
const providers: SmtpEmailProvider[] = [];

beforeAll(async () => {
  peer = await startSmtpPeer(credentials);
});
afterAll(async () => {
  await Promise.all([peer.close(), ...extraPeers.map((extra) => extra.close())]);
});
resetPeersBeforeEach(() => [peer]);
afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.close()));
});

async function anotherPeer(options: SmtpPeerOptions): Promise<SmtpPeer> {
  const extra = await startSmtpPeer({ ...credentials, ...options });
  extraPeers.push(extra);
  return extra;
}

function smtp(overrides: Partial<SmtpProviderOptions> = {}, to: SmtpPeer = peer): SmtpEmailProvider {
  const provider = new SmtpEmailProvider({
    name: "smtp-test",
    host: to.host,
    port: to.port,
    security: "starttls",
    tls: { ca: to.ca },
    auth: credentials,
    from: { address: "noreply@notify.example.ru", name: "Сервис уведомлений" },
    socketTimeoutMs: 5_000,
    ...overrides,
  });
  providers.push(provider);
  return provider;
}

describe("SmtpEmailProvider", () => {
  it("delivers text and HTML with our Message-ID, one-click unsubscribe and UTF-8, over STARTTLS", async () => {
    // As long as our signed links are: a header line past 78 characters must come through whole.
    const token = `${Buffer.from(JSON.stringify([randomUUID(), "order_confirmation", "email"])).toString("base64url")}.c2lnbmF0dXJlLW9mLXRoZS1saW5r`;
    const message = email({
      unsubscribeUrl: `https://notify.example.ru/api/v1/notifications/unsubscribe/${token}`,
    });
    const outcome = await smtp({ replyTo: "support@notify.example.ru" }).send(message);

    const [received] = peer.messages();
    expect(peer.messages()).toHaveLength(1);
    expect(outcome).toEqual({ status: "sent", providerMessageId: received?.queueId });
    expect(received).toMatchObject({
      secure: true,
      user: credentials.user,
      envelope: { from: "noreply@notify.example.ru", to: [EMAIL_RECIPIENT] },
      from: [{ name: "Сервис уведомлений", address: "noreply@notify.example.ru" }],
      to: [{ name: "", address: EMAIL_RECIPIENT }],
      replyTo: [{ name: "", address: "support@notify.example.ru" }],
      subject: message.subject,
      messageId: `<${message.messageId}@notify.example.ru>`,
      text: message.body,
      html: message.bodyHtml,
    });
    const headers = received?.headers ?? {};
    expect(headers["x-notification-id"]).toEqual([message.messageId]);
    expect(headers["list-unsubscribe"]).toEqual([`<${message.unsubscribeUrl}>`]);
    expect(headers["list-unsubscribe-post"]).toEqual(["List-Unsubscribe=One-Click"]);
    expect(headers["content-type"]?.[0]).toMatch(/^multipart\/alternative;/);
    // On the wire the Cyrillic subject is MIME encoded-words, ASCII only.
    expect(headers.subject?.[0]).toMatch(/^(=\?UTF-8\?[BQ]\?[!-~]+\?=\s*)+$/i);
    expect(headers["dkim-signature"]).toBeUndefined();
  });

  it("sends plain text alone when there is no HTML, and no List-Unsubscribe without an address", async () => {
    await smtp().send(email({ bodyHtml: "" }));
    const [received] = peer.messages();
    expect(received?.headers["content-type"]?.[0]).toMatch(/^text\/plain; charset=utf-8/i);
    expect(received?.text).toBe("Здравствуйте, Иван!\nСпасибо за покупку.");
    expect(received?.html).toBeUndefined();
    expect(received?.headers["list-unsubscribe"]).toBeUndefined();
    expect(received?.headers["list-unsubscribe-post"]).toBeUndefined();
  });

  it("signs with DKIM when it has a key", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const provider = smtp({
      dkim: {
        domainName: "notify.example.ru",
        keySelector: "mail2026",
        privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      },
    });
    expect((await provider.send(email())).status).toBe("sent");
    const signatures = peer.messages()[0]?.headers["dkim-signature"] ?? [];
    expect(signatures).toHaveLength(1);
    expect(signatures[0]).toMatch(/(^|;)\s*d=notify\.example\.ru\s*;/);
    expect(signatures[0]).toMatch(/(^|;)\s*s=mail2026\s*;/);
    expect(signatures[0]).toMatch(/(^|;)\s*b=[A-Za-z0-9+/=\s]{100,}/);
  });

  it("over implicit TLS, when told to", async () => {
    const implicit = await anotherPeer({ tls: "implicit" });
    const outcome = await smtp({ security: "implicit" }, implicit).send(email());
    expect(outcome.status).toBe("sent");
    expect(implicit.messages()[0]?.secure).toBe(true);
  });

  it("refuses to go on without TLS, and to trust a certificate it was not given", async () => {
    const plain = await anotherPeer({ tls: "none" });
    const noStarttls = await smtp({}, plain).send(email());
    expect(noStarttls).toEqual({
      status: "failed",
      reason: "500 Error: command not recognized (STARTTLS)",
      retryable: true,
    });
    expect(plain.messages()).toEqual([]);

    const distrusting = await smtp({ tls: {} }).send(email());
    expect(distrusting).toMatchObject({ status: "failed", retryable: true });
    expect(distrusting.status === "failed" && distrusting.reason).toMatch(/certificate/i);
    expect(peer.messages()).toEqual([]);
  });

  it("fails retryable on a wrong password: ours to fix, another provider may take the message", async () => {
    const outcome = await smtp({ auth: { user: credentials.user, password: "wrong" } }).send(email());
    expect(outcome).toMatchObject({ status: "failed", retryable: true });
    expect(outcome.status === "failed" && outcome.reason).toMatch(
      /^535 5\.7\.8 Error: authentication failed \(AUTH (PLAIN|LOGIN)\)$/,
    );
    expect(peer.messages()).toEqual([]);
  });

  it("fails for good on 550 5.1.1 at RCPT, the mailbox gone, with the server's answer and without the address", async () => {
    peer.setFault({ mode: "reject-5xx" });
    const outcome = await smtp().send(email());
    expect(outcome).toEqual({
      status: "failed",
      reason: `550 5.1.1 <${fingerprint(EMAIL_RECIPIENT)}>: Recipient address rejected: User unknown in virtual mailbox table (RCPT TO)`,
      retryable: false,
      destinationGone: true,
    });
    expect(JSON.stringify(outcome)).not.toContain(EMAIL_RECIPIENT);
  });

  it("fails for good on 550 at the end of DATA", async () => {
    peer.setFault({ mode: "reject-5xx", at: "data" });
    expect(await smtp().send(email())).toEqual({
      status: "failed",
      reason: "550 5.7.1 Message content rejected (DATA)",
      retryable: false,
    });
    expect(peer.messages()).toEqual([]);
  });

  it("fails retryable on 451, at RCPT and at DATA", async () => {
    peer.setFault({ mode: "tempfail-4xx" });
    const atRcpt = await smtp().send(email());
    expect(atRcpt).toEqual({
      status: "failed",
      reason: `451 4.7.1 <${fingerprint(EMAIL_RECIPIENT)}>: Recipient address rejected: Greylisted, try again later (RCPT TO)`,
      retryable: true,
    });
    peer.setFault({ mode: "tempfail-4xx", at: "data" });
    expect(await smtp().send(email())).toEqual({
      status: "failed",
      reason: "451 4.3.0 Temporary failure, try again later (DATA)",
      retryable: true,
    });
  });

  it("fails retryable once the server stays silent past the socket timeout", async () => {
    peer.setFault({ mode: "hang" });
    const started = performance.now();
    const outcome = await smtp({ socketTimeoutMs: 400 }).send(email());
    const elapsed = performance.now() - started;
    expect(outcome).toMatchObject({ status: "failed", retryable: true });
    expect(outcome.status === "failed" && outcome.reason).toMatch(/^ETIMEDOUT/);
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(3_000);
  });

  it("fails retryable when the server drops the connection, or is not there", async () => {
    peer.setFault({ mode: "drop" });
    expect(await smtp().send(email())).toEqual({
      status: "failed",
      reason: "ECONNECTION: Connection closed unexpectedly",
      retryable: true,
    });
    const nobody = await smtp({ port: await freePort() }).send(email());
    expect(nobody).toMatchObject({ status: "failed", retryable: true });
    expect(nobody.status === "failed" && nobody.reason).toMatch(/ECONNREFUSED/);
  });

  it("fails for good a message larger than the server takes", async () => {
    const small = await anotherPeer({ sizeLimit: 2_000 });
    const outcome = await smtp({}, small).send(email({ body: "Длинное письмо. ".repeat(200) }));
    expect(outcome).toEqual({
      status: "failed",
      reason: "552 Error: message exceeds fixed maximum message size 2000 (DATA)",
      retryable: false,
    });
    expect(small.messages()).toEqual([]);
  });

  it("sends 50 messages at once over at most maxConnections connections", async () => {
    const before = peer.connectionsAccepted();
    const provider = smtp({ maxConnections: 3 });
    const messages = Array.from({ length: 50 }, () => email());
    const outcomes = await Promise.all(messages.map((message) => provider.send(message)));

    expect(outcomes.every((outcome) => outcome.status === "sent")).toBe(true);
    expect(peer.messages()).toHaveLength(50);
    expect(peer.connectionsAccepted() - before).toBeLessThanOrEqual(3);
    expect(new Set(peer.messages().map((received) => received.sessionId)).size).toBeLessThanOrEqual(3);
    const ids = outcomes.map((outcome) => (outcome.status === "sent" ? outcome.providerMessageId : ""));
    expect(new Set(ids).size).toBe(50);
    expect(new Set(ids)).toEqual(new Set(peer.messages().map((received) => received.queueId)));
  });

  it("lets a message on a connection finish when it closes, and takes no more", async () => {
    peer.setFault({ mode: "slow", delayMs: 150 });
    const provider = smtp();
    const before = peer.connectionsAccepted();
    const sending = provider.send(email());
    let answered = false;
    void sending.then(() => {
      answered = true;
    });
    await expect.poll(() => peer.connectionsAccepted()).toBe(before + 1);
    await provider.close();
    expect(answered).toBe(true);
    expect((await sending).status).toBe("sent");
    expect(await provider.send(email())).toMatchObject({ status: "failed", retryable: true });
  });

  it("throws when it is handed what it cannot be meant to send", async () => {
    const provider = smtp();
    await expect(
      provider.send(email({ destination: { channel: "sms", phone: "+79991234567" } })),
    ).rejects.toThrow(/delivers email, not sms/);
    await expect(
      provider.send(email({ unsubscribeUrl: "https://x.example/u>\r\nBcc: a@b.example" })),
    ).rejects.toThrow(/not an http\(s\) URL/);
    expect(peer.messages()).toEqual([]);
  });

  it("checks its configuration when it is made", () => {
    const base: SmtpProviderOptions = {
      name: "smtp-test",
      host: peer.host,
      port: peer.port,
      security: "starttls",
      from: { address: "noreply@notify.example.ru" },
    };
    expect(() => new SmtpEmailProvider({ ...base, port: 0 })).toThrow(/port/);
    expect(() => new SmtpEmailProvider({ ...base, from: { address: "noreply" } })).toThrow(/sender/);
    expect(() => new SmtpEmailProvider({ ...base, maxConnections: 0 })).toThrow(/maxConnections/);
    expect(
      () =>
        new SmtpEmailProvider({ ...base, dkim: { domainName: "d", keySelector: "s", privateKey: "nope" } }),
    ).toThrow(/DKIM private key/);
  });
});
