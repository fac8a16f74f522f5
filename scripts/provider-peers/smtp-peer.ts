import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { type AddressObject, type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerSession } from "smtp-server";
import { type FaultControls, FaultSwitch } from "./peer-fault.ts";
import { closingOnFailure, listen, sendJson } from "./peer-http.ts";
import { readPageJson, servePeerPage } from "./peer-page.ts";
import { type Pop3MailboxPeer, startPop3MailboxPeer } from "./pop3-mailbox-peer.ts";
import { type ReceivedItems, ReceivedLog } from "./received-log.ts";
import { selfSignedCertificate } from "./self-signed.ts";
import { type DsnRecipient, deliveryStatusNotification, type LaterBounce } from "./smtp-dsn.ts";
import { type SmtpFault, smtpFault } from "./smtp-fault.ts";

export interface MailAddress {
  name: string;
  address: string;
}

/** One message the peer accepted, as a mailbox would show it plus what only the server saw. */
export interface ReceivedEmail {
  /** The peer's own id, given in its 250 answer as real servers give theirs ("queued as …"). */
  queueId: string;
  receivedAt: string;
  /** The SMTP session that carried it: messages of one session came over one connection. */
  sessionId: string;
  /** Whether TLS protected the session (implicit TLS or STARTTLS). */
  secure: boolean;
  /** Who authenticated the session. */
  user: string | undefined;
  envelope: { from: string; to: string[] };
  from: MailAddress[];
  to: MailAddress[];
  replyTo: MailAddress[];
  subject: string;
  messageId: string | undefined;
  text: string | undefined;
  html: string | undefined;
  /** The header lines as they came, still encoded and unfolded, by lower-case name. */
  headers: Record<string, string[]>;
  /** Bytes of the message as sent after DATA. */
  size: number;
}

export interface SmtpPeerOptions {
  /** 127.0.0.1 unless told otherwise: the peer accepts any sender and keeps bodies in clear. */
  host?: string;
  /** 0 (the default) takes a free port. */
  port?: number;
  /** The HTTP page's port; 0 (the default) takes a free one. */
  httpPort?: number;
  /** The only credentials AUTH accepts; `dev` and `dev` by default. */
  user?: string;
  password?: string;
  /**
   * `starttls` (the default): plain connect, STARTTLS offered and required before AUTH, as on
   * port 587; `implicit`: TLS from the first byte, as on 465; `none`: no TLS at all.
   */
  tls?: "starttls" | "implicit" | "none";
  /** The largest message accepted, in bytes (10 MiB by default); larger ones get 552. */
  sizeLimit?: number;
  /** How many received messages are kept; the oldest go first. */
  remember?: number;
  /** Told of each message as it is accepted, before the client hears its 250. */
  onReceived?: (message: ReceivedEmail) => void;
  /** The bounce mailbox's POP3 port (implicit TLS, the login of `user` and `password`); 0 (the default) takes a free one. */
  pop3Port?: number;
  /** How long after its 250 a message marked to bounce has its report in the mailbox (200 ms by default). */
  bounceDelayMs?: number;
  /** Told of failed connections (a client that distrusts the certificate, one that hangs up). */
  onError?: (error: Error) => void;
}

export interface SmtpPeer extends ReceivedItems<ReceivedEmail>, FaultControls<SmtpFault> {
  readonly host: string;
  readonly port: number;
  /** The HTTP page: `GET /`, `GET /messages`, `DELETE /messages`, `GET` and `POST /fault`. */
  readonly httpUrl: string;
  /** The peer's self-signed certificate, made at its start: what a client trusts to reach it over TLS. */
  readonly ca: string;
  /** Refuses these addresses from now on as a mailbox server refuses one that does not exist (550 5.1.1). */
  forgetMailboxes(addresses: string[]): void;
  /**
   * Takes messages to these addresses from now on with a 250, as a relay does, then reports
   * them failed (or delayed) as the relay would once the next hop refused them: a delivery
   * status notification (RFC 3464) to the envelope sender, in `bounces`, `bounceDelayMs`
   * later. It honours the DSN parameters of the send: NOTIFY (no report unless it asks for
   * this kind), RET (the headers alone for HDRS) and ENVID.
   */
  bounceAfterAccepting(addresses: string[], bounce?: LaterBounce): void;
  /** The envelope sender's mailbox, over POP3: the reports of the bounces above. */
  readonly bounces: Pop3MailboxPeer;
  /** Applies to every command from now on, in open sessions too. */
  setFault(fault: SmtpFault): void;
  /** TCP connections accepted since the start. */
  connectionsAccepted(): number;
  /** Cuts every open session and stops both servers. */
  close(): Promise<void>;
}

/**
 * A real SMTP submission server on a local port, for tests and local development: it asks for
 * AUTH, offers TLS, enforces a size limit, answers with a queue id and parses what it accepts
 * with mailparser, so a test sees the message as a mailbox would. Its faults are switched at run
 * time, from code or over its HTTP page.
 */
export async function startSmtpPeer(options: SmtpPeerOptions = {}): Promise<SmtpPeer> {
  const host = options.host ?? "127.0.0.1";
  const user = options.user ?? "dev";
  const password = options.password ?? "dev";
  const tls = options.tls ?? "starttls";
  const received = new ReceivedLog<ReceivedEmail>("the SMTP peer", options.remember ?? 1000);
  const certificate = await selfSignedCertificate();
  // The topmost socket of each open session by its client's port (the TLS one once it is up),
  // so that `drop` and close() can cut a session from the outside.
  const sockets = new Map<number, Socket>();
  const faults = new FaultSwitch(smtpFault);
  let accepted = 0;
  const unknownMailboxes = new Set<string>();
  const laterBounces = new Map<string, LaterBounce>();
  const bounceDelayMs = options.bounceDelayMs ?? 200;
  const bounceTimers = new Set<NodeJS.Timeout>();

  const answerDelay = (): Promise<void> => {
    const fault = faults.get();
    return delay(fault.mode === "slow" ? (fault.delayMs ?? 0) : 0);
  };
  const answer = (callback: (error?: Error | null) => void, error?: Error): void => {
    void answerDelay().then(() => callback(error));
  };

  const bounceLater = (queueId: string, session: SMTPServerSession, raw: Buffer): void => {
    const { mailFrom, rcptTo, dsn } = session.envelope;
    const sender = mailFrom ? mailFrom.address : "";
    // A message with the null sender (a report itself) is never reported on (RFC 3464 §2).
    if (!sender) return;
    const arrivedAt = new Date();
    const recipients: DsnRecipient[] = rcptTo.flatMap((rcpt) => {
      const bounce = laterBounces.get(rcpt.address.toLowerCase());
      if (!bounce) return [];
      const notify = rcpt.dsn?.notify;
      const wanted = (bounce.action ?? "failed") === "failed" ? "FAILURE" : "DELAY";
      if (notify && !notify.includes(wanted)) return [];
      return [{ address: rcpt.address, originalRecipient: rcpt.dsn?.orcpt ?? undefined, bounce }];
    });
    if (recipients.length === 0) return;
    const timer = setTimeout(() => {
      bounceTimers.delete(timer);
      mailbox.deliver(
        deliveryStatusNotification({
          reportingMta: "smtp-peer.localhost",
          queueId,
          to: sender,
          arrivedAt,
          envelopeId: dsn?.envid,
          returnFull: dsn?.ret !== "HDRS",
          original: raw,
          recipients,
        }),
      );
    }, bounceDelayMs);
    bounceTimers.add(timer);
  };

  const server = new SMTPServer({
    name: "smtp-peer",
    secure: tls === "implicit",
    key: certificate.key,
    cert: certificate.cert,
    disabledCommands: tls === "none" ? ["STARTTLS"] : [],
    // Without TLS there is nothing to wait for before AUTH; with it, AUTH waits as on a real server.
    allowInsecureAuth: tls === "none",
    authMethods: ["PLAIN", "LOGIN"],
    // DSN (RFC 3461), as Postfix offers it: the bounces it makes honour NOTIFY, RET and ENVID.
    hideDSN: false,
    size: options.sizeLimit ?? 10 * 1024 * 1024,
    rejectOversized: true,
    disableReverseLookup: true,
    logger: false,
    onConnect: (_session, callback) => answer(callback),
    onSecure: (socket, session, callback) => {
      sockets.set(session.remotePort, socket);
      callback();
    },
    onAuth: (auth, _session, callback) => {
      const valid = auth.username === user && auth.password === password;
      void answerDelay().then(() =>
        valid
          ? callback(null, { user: auth.username })
          : callback(null, { responseCode: 535, message: "5.7.8 Error: authentication failed" }),
      );
    },
    onMailFrom: (_address, _session, callback) => answer(callback),
    onRcptTo: (address, _session, callback) =>
      answer(
        callback,
        unknownMailboxes.has(address.address.toLowerCase())
          ? unknownMailbox(address.address)
          : refusal(faults.get(), "rcpt", address.address),
      ),
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      // Past the limit nothing more is kept: smtp-server answers 552 whatever the callback says.
      stream.on("data", (chunk: Buffer) => {
        if (!stream.sizeExceeded) chunks.push(chunk);
      });
      stream.once("end", () => {
        void answerDelay().then(async () => {
          const fault = faults.get();
          if (fault.mode === "hang") return;
          if (fault.mode === "drop") {
            sockets.get(session.remotePort)?.destroy();
            return;
          }
          const refused = refusal(fault, "data");
          if (refused || stream.sizeExceeded) return callback(refused);
          const raw = Buffer.concat(chunks);
          let parsed: ParsedMail;
          try {
            // Only what was sent: no text made from the HTML part, no HTML made from the text.
            parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true });
          } catch (error) {
            return callback(smtpError(554, `5.6.0 the message could not be parsed: ${String(error)}`));
          }
          const queueId = randomBytes(5).toString("hex").toUpperCase();
          const message = receivedEmail(queueId, session, parsed, raw.length);
          received.keep(message);
          options.onReceived?.(message);
          // Read before the 250: smtp-server clears the session's envelope once it is answered.
          bounceLater(queueId, session, raw);
          callback(null, `2.0.0 Ok: queued as ${queueId}`);
        });
      });
    },
  });
  server.on("error", (error) => options.onError?.(error));
  server.server.on("connection", (socket: Socket) => {
    accepted++;
    const port = socket.remotePort;
    if (port === undefined) return;
    sockets.set(port, socket);
    socket.once("close", () => sockets.delete(port));
  });

  const port = await listen(server.server, options.port ?? 0, host);

  const closeSmtp = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(resolve));
    for (const socket of sockets.values()) socket.destroy();
    await closed;
  };
  const mailbox = await startPop3MailboxPeer({
    host,
    port: options.pop3Port ?? 0,
    user,
    password,
    certificate,
    ...(options.onError ? { onError: options.onError } : {}),
  }).catch(closingOnFailure(closeSmtp));
  const closeServers = async (): Promise<void> => {
    for (const timer of bounceTimers) clearTimeout(timer);
    bounceTimers.clear();
    await Promise.all([closeSmtp(), mailbox.close()]);
  };

  const peer = {
    host,
    port,
    ca: certificate.cert,
    ...received.asReceivedItems(),
    forgetMailboxes: (addresses: string[]) => {
      for (const address of addresses) unknownMailboxes.add(address.toLowerCase());
    },
    bounceAfterAccepting: (addresses: string[], bounce: LaterBounce = {}) => {
      for (const address of addresses) laterBounces.set(address.toLowerCase(), bounce);
    },
    bounces: mailbox,
    ...faults.asFaultControls(),
    connectionsAccepted: () => accepted,
  };

  const page = await servePeerPage(
    {
      title: "SMTP peer",
      columns: ["received", "to", "subject", "session"],
      row: (message: ReceivedEmail) => [
        message.receivedAt,
        message.envelope.to.join(", "),
        message.subject,
        message.secure ? "TLS" : "plain",
      ],
      received: received.asReceivedItems(),
      faults,
      routes: {
        // Marks addresses as a test would with bounceAfterAccepting: {"addresses": [...], "action"?, "status"?, "diagnostic"?}.
        "/bounces": {
          GET: (_request, response) => sendJson(response, 200, mailbox.held()),
          POST: async (request, response) => {
            const { addresses, bounce } = await readPageJson(request, laterBounceRequest);
            peer.bounceAfterAccepting(addresses, bounce);
            sendJson(response, 200, { addresses, bounce });
          },
        },
      },
    },
    host,
    options.httpPort ?? 0,
  ).catch(closingOnFailure(closeServers));

  return {
    ...peer,
    httpUrl: page.url,
    close: async () => {
      await Promise.all([closeServers(), page.close()]);
    },
  };
}

/** A page's request to bounce addresses later, or an error saying what is wrong with it. */
function laterBounceRequest(value: unknown): { addresses: string[]; bounce: LaterBounce } {
  const body = (value ?? {}) as Record<string, unknown>;
  const { addresses, action, status, diagnostic } = body;
  const unknown = Object.keys(body).filter(
    (key) => !["addresses", "action", "status", "diagnostic"].includes(key),
  );
  if (unknown.length > 0)
    throw new Error(`a bounce takes addresses, action, status and diagnostic, not ${unknown.join(", ")}`);
  if (
    !(
      Array.isArray(addresses) &&
      addresses.length > 0 &&
      addresses.every((each) => typeof each === "string" && each.includes("@"))
    )
  ) {
    throw new Error("addresses is a list of email addresses");
  }
  if (action !== undefined && action !== "failed" && action !== "delayed")
    throw new Error('action is "failed" or "delayed"');
  const failing = (action ?? "failed") === "failed";
  if (
    status !== undefined &&
    !(
      typeof status === "string" &&
      (failing ? /^[45]\.\d{1,3}\.\d{1,3}$/ : /^4\.\d{1,3}\.\d{1,3}$/).test(status)
    )
  ) {
    throw new Error(
      failing ? "a failure's status is 4.x.x or 5.x.x (RFC 3463)" : "a delay's status is 4.x.x (RFC 3463)",
    );
  }
  if (diagnostic !== undefined && !(typeof diagnostic === "string" && /^[^\r\n]{1,500}$/.test(diagnostic))) {
    throw new Error("diagnostic is one line of up to 500 characters");
  }
  return {
    addresses,
    bounce: {
      ...(action !== undefined ? { action } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(diagnostic !== undefined ? { diagnostic } : {}),
    },
  };
}

/** The answer `fault` gives at `stage`, if it refuses there; the rejected address is quoted, as Postfix does. */
function unknownMailbox(recipient: string): Error {
  return smtpError(
    550,
    `5.1.1 <${recipient}>: Recipient address rejected: User unknown in virtual mailbox table`,
  );
}

function refusal(fault: SmtpFault, stage: "rcpt" | "data", recipient?: string): Error | undefined {
  if (fault.mode !== "reject-5xx" && fault.mode !== "tempfail-4xx") return undefined;
  if ((fault.at ?? "rcpt") !== stage) return undefined;
  if (fault.mode === "reject-5xx") {
    return stage === "rcpt"
      ? unknownMailbox(recipient ?? "")
      : smtpError(550, "5.7.1 Message content rejected");
  }
  return stage === "rcpt"
    ? smtpError(451, `4.7.1 <${recipient}>: Recipient address rejected: Greylisted, try again later`)
    : smtpError(451, "4.3.0 Temporary failure, try again later");
}

function smtpError(responseCode: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode });
}

function receivedEmail(
  queueId: string,
  session: SMTPServerSession,
  parsed: ParsedMail,
  size: number,
): ReceivedEmail {
  const headers = new Map<string, string[]>();
  for (const { key, line } of parsed.headerLines) {
    const value = line
      .slice(line.indexOf(":") + 1)
      .replace(/\r?\n(?=[ \t])/g, "")
      .trim();
    const name = key.toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), value]);
  }
  const { mailFrom, rcptTo } = session.envelope;
  return {
    queueId,
    receivedAt: new Date().toISOString(),
    sessionId: session.id,
    secure: session.secure,
    user: typeof session.user === "string" ? session.user : undefined,
    envelope: { from: mailFrom ? mailFrom.address : "", to: rcptTo.map((rcpt) => rcpt.address) },
    from: addresses(parsed.from),
    to: addresses(parsed.to),
    replyTo: addresses(parsed.replyTo),
    subject: parsed.subject ?? "",
    messageId: parsed.messageId,
    text: parsed.text,
    html: parsed.html || undefined,
    headers: Object.fromEntries(headers),
    size,
  };
}

function addresses(header: AddressObject | AddressObject[] | undefined): MailAddress[] {
  return [header ?? []]
    .flat()
    .flatMap((object) => object.value)
    .flatMap((entry) => entry.group ?? [entry])
    .map((entry) => ({ name: entry.name, address: entry.address ?? "" }));
}
