import { isIP, type Socket, connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { redactErrorText } from "../../core/personal-data.ts";

/** One message of a mailbox, as a session read it. */
export interface MailboxMessage {
  /** Its number in this session (RFC 1939's message-number). */
  number: number;
  /** The server's id for it, the same in every session (UIDL), when the server gives one. */
  uid: string | undefined;
  /** Its size as the server counts it, in bytes. */
  size: number;
  /** The message, or undefined when it is larger than the reader takes (it was not fetched). */
  raw: Buffer | undefined;
}

/** What one session did. */
export interface MailboxSession {
  /** Messages in the mailbox when the session began. */
  inMailbox: number;
  read: number;
  deleted: number;
}

/** A mailbox read one session at a time. */
export interface Mailbox {
  /**
   * Hands up to `max` messages, oldest first, to `handle`, one at a time; the ones it answers
   * "delete" are removed when the session ends cleanly. When `handle` throws, the session ends
   * there: the messages it deleted before are removed, this one and the rest stay.
   */
  read(max: number, handle: (message: MailboxMessage) => Promise<"delete" | "keep">): Promise<MailboxSession>;
}

export interface Pop3MailboxOptions {
  /** Names the mailbox in errors, e.g. "email-primary bounces". */
  name: string;
  host: string;
  port: number;
  /**
   * `implicit`: TLS from the first byte (pop3s, usually port 995); `starttls`: a plain
   * connection turned to TLS with STLS (RFC 2595) before the login, usually 110. There is no
   * clear-text mode: the password would cross the network readable.
   */
  security: "implicit" | "starttls";
  user: string;
  password: string;
  tls?: {
    /** The only certificates trusted, in place of the system's: for a private server or a test peer. */
    ca?: string | string[];
    /** The name the certificate must carry, when `host` is an address or another name. */
    servername?: string;
  };
  /** How long connecting, TLS, and the answer to each command may take (30 s by default). */
  timeoutMs?: number;
  /** Messages larger than this are not fetched (1 MiB by default): a DSN is a few kilobytes. */
  maxMessageBytes?: number;
}

/** The server refused or broke off, or did not answer in time; never carries the password or a message. */
export class Pop3Error extends Error {
  override readonly name: string = "Pop3Error";
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from("\r\n");
// A status line is short (RFC 1939 allows 512 octets); a server that sends more is not speaking POP3.
const MAX_STATUS_LINE = 1024;
// LIST and UIDL lines: "number size" and "number uid" (a uid is at most 70 characters).
const MAX_LISTING_LINE = 128;
const MAX_LISTED = 100_000;
const OVERLONG = Symbol("overlong");

/**
 * A POP3 mailbox (RFC 1939) over TLS, implicit or through STLS (RFC 2595): USER and PASS,
 * STAT, LIST and UIDL, RETR of each message no larger than the limit, DELE of those handled,
 * QUIT, which removes them. Every step has a deadline; nothing is logged, since messages
 * carry addresses and bodies.
 */
export class Pop3Mailbox implements Mailbox {
  private readonly options: Pop3MailboxOptions;
  private readonly timeoutMs: number;
  private readonly maxMessageBytes: number;

  constructor(options: Pop3MailboxOptions) {
    const { name } = options;
    if (!name) throw new Error("a POP3 mailbox needs a name");
    if (!options.host) throw new Error(`${name}: the POP3 host is missing`);
    if (!(Number.isInteger(options.port) && options.port > 0 && options.port <= 65535)) {
      throw new Error(`${name}: the POP3 port must be from 1 to 65535, got ${options.port}`);
    }
    if (options.security !== "implicit" && options.security !== "starttls") {
      throw new Error(`${name}: security is "implicit" or "starttls", got ${String(options.security)}`);
    }
    if (!(options.user && options.password)) throw new Error(`${name}: POP3 needs a user and a password`);
    // Either would end the command and let the rest be read as another.
    if (/[\r\n]/.test(options.user) || /[\r\n]/.test(options.password)) {
      throw new Error(`${name}: the POP3 user and password cannot hold line breaks`);
    }
    this.options = options;
    this.timeoutMs = wholeAbove0(name, "timeoutMs", options.timeoutMs ?? 30_000);
    this.maxMessageBytes = wholeAbove0(name, "maxMessageBytes", options.maxMessageBytes ?? 1024 * 1024);
  }

  async read(
    max: number,
    handle: (message: MailboxMessage) => Promise<"delete" | "keep">,
  ): Promise<MailboxSession> {
    const session = await Pop3Session.open(this.options, this.timeoutMs);
    try {
      await session.login(this.options.user, this.options.password);
      const inMailbox = Number(/^(\d+)\s/.exec(await session.command("STAT"))?.[1] ?? Number.NaN);
      if (!Number.isInteger(inMailbox)) throw session.error("STAT gave no message count");
      if (inMailbox === 0) {
        await session.quit();
        return { inMailbox, read: 0, deleted: 0 };
      }
      const sizes = await session.listing("LIST", (value) => {
        const size = Number(value);
        return Number.isInteger(size) && size >= 0 ? size : undefined;
      });
      // UIDL is optional (RFC 1939 §7): without it, a message only has its number.
      const uids = await session
        .listing("UIDL", (value) => (/^[\x21-\x7e]{1,70}$/.test(value) ? value : undefined))
        .catch((error: unknown) => {
          if (error instanceof Pop3Error && session.usable) return new Map<number, string>();
          throw error;
        });
      const numbers = [...sizes.keys()].sort((a, b) => a - b).slice(0, Math.max(0, max));
      let read = 0;
      let deleted = 0;
      for (const number of numbers) {
        const size = sizes.get(number) ?? 0;
        const raw =
          size <= this.maxMessageBytes ? await session.retrieve(number, this.maxMessageBytes) : undefined;
        read++;
        let decision: "delete" | "keep";
        try {
          decision = await handle({ number, uid: uids.get(number), size, raw });
        } catch (error) {
          // What was handled before stays handled: QUIT removes it.
          await session.quit().catch(() => undefined);
          throw error;
        }
        if (decision === "delete") {
          await session.command(`DELE ${number}`);
          deleted++;
        }
      }
      await session.quit();
      return { inMailbox, read, deleted };
    } finally {
      session.destroy();
    }
  }
}

/** One connection to the server, read line by line against a deadline. */
class Pop3Session {
  private socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private detach: () => void;

  private constructor(
    private readonly options: Pop3MailboxOptions,
    private readonly timeoutMs: number,
    socket: Socket,
  ) {
    this.socket = socket;
    this.detach = this.attach(socket);
  }

  /** Connected, TLS up, and the greeting read. */
  static async open(options: Pop3MailboxOptions, timeoutMs: number): Promise<Pop3Session> {
    const deadline = Date.now() + timeoutMs;
    const { host, port } = options;
    const socket =
      options.security === "implicit"
        ? tlsConnect({ host, port, ...tlsOptions(options) })
        : tcpConnect({ host, port });
    const session = new Pop3Session(options, timeoutMs, socket);
    try {
      await session.until(options.security === "implicit" ? "secureConnect" : "connect", deadline);
      await session.status("the greeting", deadline);
      if (options.security === "starttls") await session.startTls();
      return session;
    } catch (error) {
      session.destroy();
      throw error;
    }
  }

  /** Whether the connection is still in step: a refusal (-ERR) leaves it so, a broken answer does not. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  async login(user: string, password: string): Promise<void> {
    await this.command(`USER ${user}`, "USER");
    // The words of a refusal, never the command: it carries the password.
    await this.command(`PASS ${password}`, "the login (PASS)");
  }

  /** The text after +OK; a -ERR rejects with the server's words, addresses hidden. */
  async command(line: string, what = line): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.status(what, Date.now() + this.timeoutMs);
  }

  /** A multi-line listing (LIST, UIDL) by message number, values `parse` refuses left out. */
  async listing<T>(command: string, parse: (value: string) => T | undefined): Promise<Map<number, T>> {
    await this.command(command);
    const deadline = Date.now() + this.timeoutMs;
    const listed = new Map<number, T>();
    for (;;) {
      const line = await this.line(deadline, MAX_LISTING_LINE);
      if (line === OVERLONG) throw this.error(`${command} sent a line too long for a listing`);
      if (line.length === 1 && line[0] === DOT) return listed;
      const [number, value] = line.toString("latin1").trim().split(/\s+/);
      const parsed = value === undefined ? undefined : parse(value);
      if (parsed !== undefined && /^\d+$/.test(number ?? "") && listed.size < MAX_LISTED) {
        listed.set(Number(number), parsed);
      }
    }
  }

  /** Message `number` with its dot-stuffing undone, or undefined past `maxBytes` (the rest read and dropped). */
  async retrieve(number: number, maxBytes: number): Promise<Buffer | undefined> {
    await this.command(`RETR ${number}`, "RETR");
    const deadline = Date.now() + this.timeoutMs;
    const kept: Buffer[] = [];
    let size = 0;
    let over = false;
    for (;;) {
      const line = await this.line(deadline, maxBytes);
      if (line === OVERLONG) {
        over = true;
        continue;
      }
      if (line.length === 1 && line[0] === DOT) break;
      const content = line[0] === DOT ? line.subarray(1) : line;
      size += content.length + CRLF.length;
      if (size > maxBytes) over = true;
      else kept.push(content, CRLF);
    }
    return over ? undefined : Buffer.concat(kept);
  }

  /** Ends the session; the server removes what was deleted only now. */
  async quit(): Promise<void> {
    await this.command("QUIT");
  }

  destroy(): void {
    this.socket.destroy();
  }

  error(what: string): Pop3Error {
    return new Pop3Error(`${this.options.name}: ${what}`);
  }

  /** STLS, then TLS over the same connection; nothing the server sent before may be kept. */
  private async startTls(): Promise<void> {
    await this.command("STLS");
    if (this.buffer.length > 0) throw this.error("the server said more after STLS than its +OK");
    this.detach();
    const secure = tlsConnect({ socket: this.socket, ...tlsOptions(this.options) });
    this.socket = secure;
    this.detach = this.attach(secure);
    await this.until("secureConnect", Date.now() + this.timeoutMs);
  }

  private attach(socket: Socket): () => void {
    const onData = (chunk: Buffer) => {
      this.buffer = this.buffer.length > 0 ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.wake?.();
    };
    const onError = (error: Error) => {
      this.failure ??= this.error(`the connection failed: ${redactErrorText(error.message)}`);
      this.wake?.();
    };
    const onClose = () => {
      this.failure ??= this.error("the server closed the connection");
      this.wake?.();
    };
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("close", onClose);
    return () => {
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
    };
  }

  private async until(event: "connect" | "secureConnect", deadline: number): Promise<void> {
    let happened = false;
    const done = () => {
      happened = true;
      this.wake?.();
    };
    this.socket.once(event, done);
    try {
      while (!happened) await this.more(deadline);
    } finally {
      this.socket.off(event, done);
    }
  }

  private async status(what: string, deadline: number): Promise<string> {
    const line = await this.line(deadline, MAX_STATUS_LINE);
    if (line === OVERLONG) throw this.error(`the answer to ${what} is too long for POP3`);
    const text = line.toString("utf8");
    if (/^\+OK\b/.test(text)) return text.slice(3).trim();
    if (/^-ERR\b/.test(text)) {
      throw this.error(`${what} refused: ${redactErrorText(text.slice(4).trim()).slice(0, 200) || "-ERR"}`);
    }
    this.failure ??= this.error(`the answer to ${what} is not POP3`);
    throw this.failure;
  }

  /** The next line without its CRLF, or OVERLONG for one longer than `maxLength` (dropped as it comes). */
  private async line(deadline: number, maxLength: number): Promise<Buffer | typeof OVERLONG> {
    let dropping = false;
    for (;;) {
      const end = this.buffer.indexOf(LF);
      if (end >= 0) {
        const length = end > 0 && this.buffer[end - 1] === CR ? end - 1 : end;
        const line = Buffer.from(this.buffer.subarray(0, length));
        this.buffer = this.buffer.subarray(end + 1);
        return dropping || line.length > maxLength ? OVERLONG : line;
      }
      if (this.buffer.length > maxLength + 1) {
        dropping = true;
        this.buffer = Buffer.alloc(0);
      }
      await this.more(deadline);
    }
  }

  /** Resolves when more came (or the connection ended); rejects at `deadline` or once it failed. */
  private more(deadline: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const left = deadline - Date.now();
    if (left <= 0) return Promise.reject(this.timedOut());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        reject(this.timedOut());
      }, left);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private timedOut(): Pop3Error {
    // Whatever comes late would be read as the answer to the next command.
    this.failure ??= this.error(`no answer within ${this.timeoutMs} ms`);
    return this.failure;
  }
}

function tlsOptions(options: Pop3MailboxOptions) {
  const servername = options.tls?.servername ?? (isIP(options.host) ? undefined : options.host);
  return {
    ...(options.tls?.ca ? { ca: options.tls.ca } : {}),
    ...(servername ? { servername } : {}),
    minVersion: "TLSv1.2" as const,
  };
}

function wholeAbove0(name: string, field: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new Error(`${name}: ${field} must be a whole number above 0, got ${value}`);
  }
  return value;
}
