import { createPrivateKey } from "node:crypto";
import { createTransport } from "nodemailer";
import type { NodemailerError } from "nodemailer/lib/errors";
import type Mail from "nodemailer/lib/mailer";
import type { SMTPPoolOptions, SMTPPoolSentMessageInfo } from "nodemailer/lib/smtp-pool";
import type { Channel } from "../../core/channels.ts";
import { redactErrorText } from "../../core/personal-data.ts";
import type { DeliveryOutcome, OutgoingMessage, Provider } from "../../core/sending/index.ts";
import { SendSlots } from "./send-slots.ts";
import { SendsInFlight } from "./sends-in-flight.ts";
import { saysAddressGone } from "./smtp-status.ts";

export interface SmtpProviderOptions {
  /** Unique among the providers, e.g. "smtp-primary". */
  name: string;
  host: string;
  port: number;
  /**
   * `implicit`: TLS from the first byte (usually port 465); `starttls`: a plain connection that
   * must turn to TLS before anything else is said (usually 587). There is no clear-text mode:
   * the password and every message would cross the network readable.
   */
  security: "implicit" | "starttls";
  tls?: {
    /** The only certificates trusted, in place of the system's: for a private relay or a test peer. */
    ca?: string | string[];
    /** The name the certificate must carry, when `host` is an address or another name. */
    servername?: string;
  };
  auth?: { user: string; password: string };
  /** The sender every message shows; its domain also ends our Message-IDs. */
  from: { address: string; name?: string };
  replyTo?: string;
  /** Signs every message, with the key whose public half is at `<keySelector>._domainkey.<domainName>`. */
  dkim?: { domainName: string; keySelector: string; privateKey: string };
  /** Connections kept open to the server (5 by default). */
  maxConnections?: number;
  /** Messages sent over one connection before it is replaced (100 by default). */
  maxMessages?: number;
  /** How long opening the TCP connection may take (10 s by default). */
  connectionTimeoutMs?: number;
  /** How long the server may take to greet once connected (15 s by default). */
  greetingTimeoutMs?: number;
  /** How long the server may stay silent mid-session, the answer to a message's end included (60 s by default). */
  socketTimeoutMs?: number;
}

// The answers about one message: a permanent one there refuses that message for good. Refusals
// of the session or of our sender (MAIL FROM) would refuse every message alike: another
// provider may take them.
const MESSAGE_COMMANDS = new Set(["RCPT TO", "DATA"]);
// 5xx answers that mean we did not authenticate as the server wants (RFC 4954): ours to fix.
const AUTH_REPLY_CODES = new Set([530, 534, 535, 538]);
// What a Message-ID's left part may hold (RFC 5322 dot-atom-text, less what we never use).
const MESSAGE_ID_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;
const MAX_REASON_LENGTH = 500;

/**
 * Email over SMTP submission, through a pool of authenticated TLS connections (nodemailer).
 * A message's Message-ID comes from our message id, so a resend is recognisable as the same
 * message; the server's queue id, when its answer gives one, names the send.
 */
export class SmtpEmailProvider implements Provider {
  private readonly sends: SendsInFlight;
  readonly name: string;
  readonly channels: readonly Channel[] = ["email"];
  private readonly transport: Mail<SMTPPoolSentMessageInfo, SMTPPoolOptions>;
  private readonly fromDomain: string;
  private readonly slots: SendSlots;
  private readonly slotWaitMs: number;

  constructor(private readonly options: SmtpProviderOptions) {
    if (!options.name) throw new Error("an SMTP provider needs a name");
    if (!options.host) throw new Error(`${options.name}: the SMTP host is missing`);
    if (!(Number.isInteger(options.port) && options.port > 0 && options.port <= 65535)) {
      throw new Error(`${options.name}: the SMTP port must be from 1 to 65535, got ${options.port}`);
    }
    if (options.security !== "implicit" && options.security !== "starttls") {
      throw new Error(
        `${options.name}: security is "implicit" or "starttls", got ${String(options.security)}`,
      );
    }
    const domain = /^[^@\s]+@([^@\s]+)$/.exec(options.from.address)?.[1];
    if (!domain) throw new Error(`${options.name}: the sender is not an address: ${options.from.address}`);
    this.fromDomain = domain;
    if (options.auth && !(options.auth.user && options.auth.password)) {
      throw new Error(`${options.name}: SMTP auth needs both a user and a password`);
    }
    if (options.dkim) {
      const { domainName, keySelector, privateKey } = options.dkim;
      if (!domainName || !keySelector) throw new Error(`${options.name}: DKIM needs a domain and a selector`);
      try {
        createPrivateKey(privateKey);
      } catch (error) {
        throw new Error(`${options.name}: the DKIM private key is not a PEM key`, { cause: error });
      }
    }
    this.name = options.name;
    this.sends = new SendsInFlight(this.name);
    this.slots = new SendSlots(wholeAbove0(options, "maxConnections", 5));
    this.slotWaitMs = wholeAbove0(options, "socketTimeoutMs", 60_000);
    this.transport = createTransport({
      pool: true,
      host: options.host,
      port: options.port,
      secure: options.security === "implicit",
      requireTLS: options.security === "starttls",
      tls: options.tls,
      auth: options.auth && { user: options.auth.user, pass: options.auth.password },
      dkim: options.dkim,
      maxConnections: wholeAbove0(options, "maxConnections", 5),
      maxMessages: wholeAbove0(options, "maxMessages", 100),
      connectionTimeout: wholeAbove0(options, "connectionTimeoutMs", 10_000),
      greetingTimeout: wholeAbove0(options, "greetingTimeoutMs", 15_000),
      socketTimeout: wholeAbove0(options, "socketTimeoutMs", 60_000),
    });
  }

  send(message: OutgoingMessage): Promise<DeliveryOutcome> {
    return this.sends.track(() => this.deliver(message));
  }

  /** New messages fail as retryable at once; the ones on a connection get their answer first. */
  async close(): Promise<void> {
    this.transport.close();
    await this.sends.drain();
  }

  private async deliver(message: OutgoingMessage): Promise<DeliveryOutcome> {
    const { destination } = message;
    if (destination.channel !== "email") {
      throw new Error(
        `${this.name} delivers email, not ${destination.channel}: it was chosen against its channels`,
      );
    }
    if (!MESSAGE_ID_PART.test(message.messageId)) {
      throw new Error(`${this.name}: message id ${JSON.stringify(message.messageId)} cannot be a Message-ID`);
    }
    const headers: Record<string, string> = { "X-Notification-Id": message.messageId };
    if (message.unsubscribeUrl !== undefined) {
      // Anything that could end the header would let a URL add headers of its own. Plain http is
      // let through for development (PUBLIC_BASE_URL's default); mailbox providers want https.
      if (!/^https?:\/\/[^\s<>]+$/.test(message.unsubscribeUrl)) {
        throw new Error(
          `${this.name}: the unsubscribe address of ${message.messageId} is not an http(s) URL`,
        );
      }
      // RFC 8058: a mailbox provider unsubscribes with one POST, without a page to click through.
      headers["List-Unsubscribe"] = `<${message.unsubscribeUrl}>`;
      headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
    }
    // One send per connection: a connection that hangs holds one send, not a queue of them.
    const release = await this.slots.acquire(this.slotWaitMs);
    if (!release) {
      return {
        status: "failed",
        reason: `no connection to the server came free within ${this.slotWaitMs} ms`,
        retryable: true,
      };
    }
    try {
      const info = await this.transport.sendMail({
        from: { name: this.options.from.name ?? "", address: this.options.from.address },
        to: destination.email,
        replyTo: this.options.replyTo,
        subject: message.subject,
        text: message.body,
        html: message.bodyHtml || undefined,
        messageId: `<${message.messageId}@${this.fromDomain}>`,
        headers,
        // RFC 3461, where the server offers DSN: a relay that fails the message after its 250
        // mails back a report naming our id (ENVID) with the headers only (RET=HDRS), not the
        // body and what it says of the recipient (smtp-bounces.ts reads it).
        dsn: { id: message.messageId, return: "headers", notify: ["failure"] },
      });
      return { status: "sent", providerMessageId: queueIdIn(info.response) ?? info.messageId };
    } catch (error) {
      // nodemailer rejects with an Error carrying the SMTP fields it knows, none of them certain.
      return failure(error instanceof Error ? (error as NodemailerError) : new Error(String(error)));
    } finally {
      release();
    }
  }
}

type CountOption =
  | "maxConnections"
  | "maxMessages"
  | "connectionTimeoutMs"
  | "greetingTimeoutMs"
  | "socketTimeoutMs";

function wholeAbove0(options: SmtpProviderOptions, field: CountOption, fallback: number): number {
  const value = options[field] ?? fallback;
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new Error(`${options.name}: ${field} must be a whole number above 0, got ${value}`);
  }
  return value;
}

/** The server's id for the message, as Postfix ("queued as 4Z3Lq5…") and Exim ("id=1rXy…") give it. */
function queueIdIn(response: string): string | undefined {
  return /\b(?:queued as|id=)\s*([^\s;,]+)/i.exec(response)?.[1];
}

function failure(error: NodemailerError): DeliveryOutcome {
  const reason = reasonOf(error);
  const { responseCode, command } = error;
  if (responseCode !== undefined) {
    // A server that refuses our login refuses every message: failing each one for good would
    // throw them all away over a configuration of ours. Retryable, failover takes them elsewhere.
    if (AUTH_REPLY_CODES.has(responseCode)) return { status: "failed", reason, retryable: true };
    const aboutTheMessage = command !== undefined && MESSAGE_COMMANDS.has(command);
    const refused = Boolean(error.permanent) && aboutTheMessage;
    // The server refused the recipient with a status that says the address itself is dead.
    const gone = refused && command === "RCPT TO" && saysAddressGone(enhancedCodeOf(error.response));
    return { status: "failed", reason, retryable: !refused, ...(gone ? { destinationGone: true } : {}) };
  }
  // Refused connections, timeouts, dropped sessions, TLS that failed, a pool closing: the server, not the message.
  return { status: "failed", reason, retryable: true };
}

/** The enhanced status code (RFC 3463) after the reply code, e.g. "5.1.1" of "550 5.1.1 …". */
function enhancedCodeOf(response: string | undefined): string {
  return /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(response ?? "")?.[1] ?? "";
}

/**
 * The server's answer and the command it answered ("550 5.1.1 … (RCPT TO)"), or nodemailer's
 * error ("ETIMEDOUT: …"), with addresses and quoted values hidden.
 */
function reasonOf(error: NodemailerError): string {
  const text = error.response
    ? `${error.response}${error.command ? ` (${error.command})` : ""}`
    : [error.code, error.message].filter(Boolean).join(": ");
  return redactErrorText(text.replace(/\s+/g, " ").trim()).slice(0, MAX_REASON_LENGTH);
}
