import { randomBytes } from "node:crypto";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { createSecureContext, createServer as createTlsServer, TLSSocket } from "node:tls";
import { listen } from "./peer-http.ts";
import { ReceivedLog } from "./received-log.ts";
import type { SelfSignedCertificate } from "./self-signed.ts";

/** One message in the mailbox. */
export interface MailboxItem {
  /** Its id in UIDL answers, the same in every session. */
  uid: string;
  deliveredAt: string;
  /** The message as RETR gives it, lines ending in CRLF. */
  raw: string;
}

export interface Pop3MailboxPeerOptions {
  /** 127.0.0.1 unless told otherwise: the mailbox is readable with the password below. */
  host?: string;
  /** 0 (the default) takes a free port. */
  port?: number;
  /** The only login it takes. */
  user: string;
  password: string;
  /** What it presents over TLS. */
  certificate: SelfSignedCertificate;
  /**
   * `implicit` (the default): TLS from the first byte, as pop3s on 995; `stls`: a plain
   * connection that must turn to TLS with STLS (RFC 2595) before the login, as on 110.
   */
  tls?: "implicit" | "stls";
  /** How many messages it holds and remembers as removed; the oldest go first. */
  remember?: number;
  /** Told of failed connections (a client that distrusts the certificate, one that hangs up). */
  onError?: (error: Error) => void;
}

export interface Pop3MailboxPeer {
  readonly host: string;
  readonly port: number;
  readonly tls: "implicit" | "stls";
  /** The certificate it presents: what a client trusts to reach it. */
  readonly ca: string;
  readonly user: string;
  readonly password: string;
  /** Puts a message in the mailbox, as local delivery would; line ends become CRLF. */
  deliver(raw: string): MailboxItem;
  /** What the mailbox holds now, oldest first: delivered and not removed by a client's DELE and QUIT. */
  held(): MailboxItem[];
  /** The first message delivered, already or to come, that `predicate` accepts; rejects after `timeoutMs` (5 s by default). */
  waitFor(predicate: (item: MailboxItem) => boolean, timeoutMs?: number): Promise<MailboxItem>;
  /** What clients removed (DELE, then QUIT), oldest first. */
  removed(): MailboxItem[];
  /** Logins it accepted since the start. */
  logins(): number;
  /** Empties the mailbox and forgets what was delivered and removed. */
  clear(): void;
  /** Cuts every open session and stops. */
  close(): Promise<void>;
}

// RFC 1939 allows 255 octets of a command; anything longer is not one.
const MAX_COMMAND_LINE = 512;

/**
 * A real POP3 server (RFC 1939, STLS of RFC 2595) over TLS on a local port, for tests and
 * local development: one mailbox, one login, locked while a session has it (a second gets
 * `-ERR [IN-USE]`), messages removed only when the session that deleted them ends with QUIT.
 */
export async function startPop3MailboxPeer(options: Pop3MailboxPeerOptions): Promise<Pop3MailboxPeer> {
  const host = options.host ?? "127.0.0.1";
  const tls = options.tls ?? "implicit";
  const remember = options.remember ?? 1000;
  if (!(options.user && options.password)) throw new Error("the POP3 peer needs a user and a password");
  const { key, cert } = options.certificate;
  const context = createSecureContext({ key, cert });
  const delivered = new ReceivedLog<MailboxItem>("the POP3 mailbox", remember);
  let held: MailboxItem[] = [];
  const removed: MailboxItem[] = [];
  const sockets = new Set<Socket>();
  let locked = false;
  let logins = 0;

  // `secure`: TLS is up; a session turned to TLS by STLS is not greeted again.
  const serve = (socket: Socket, secure: boolean, greet = true): void => {
    let session: Session = { state: "authorization", user: undefined, secure };
    const reader = lineReader(socket, (line) => {
      const [verb = "", ...args] = line.split(" ");
      const command = verb.toUpperCase();
      const answer = respond(command, args, line.slice(verb.length + 1));
      if (answer !== undefined) socket.write(answer);
    });
    socket.on("error", (error) => options.onError?.(error));
    socket.once("close", () => {
      reader.stop();
      // A session that ends without QUIT removes nothing (RFC 1939 §6).
      if (session.state === "transaction") locked = false;
    });
    if (greet) socket.write("+OK POP3 peer ready\r\n");

    function respond(command: string, args: string[], rest: string): string | undefined {
      if (command === "QUIT") {
        if (session.state === "transaction") {
          const gone = new Set(session.deleted);
          const removedNow = session.maildrop.filter((_, index) => gone.has(index + 1));
          held = held.filter((item) => !removedNow.includes(item));
          removed.push(...removedNow);
          removed.splice(0, Math.max(0, removed.length - remember));
          locked = false;
          session = { state: "authorization", user: undefined, secure: session.secure };
        }
        socket.end("+OK bye\r\n");
        return undefined;
      }
      if (command === "CAPA") {
        const capabilities = ["USER", "UIDL", "TOP", ...(tls === "stls" && !session.secure ? ["STLS"] : [])];
        return `+OK\r\n${capabilities.map((each) => `${each}\r\n`).join("")}.\r\n`;
      }
      if (command === "NOOP" && session.state === "transaction") return "+OK\r\n";
      if (session.state === "authorization") return authorization(command, args, rest);
      return transaction(session, command, args);
    }

    function authorization(command: string, args: string[], rest: string): string | undefined {
      if (session.state !== "authorization") return "-ERR\r\n";
      if (command === "STLS") {
        if (tls !== "stls" || session.secure) return "-ERR STLS is not offered now\r\n";
        socket.write("+OK begin TLS\r\n");
        reader.stop();
        const upgraded = new TLSSocket(socket, { isServer: true, secureContext: context });
        sockets.add(upgraded);
        upgraded.once("close", () => sockets.delete(upgraded));
        upgraded.once("secure", () => serve(upgraded, true, false));
        upgraded.on("error", (error) => options.onError?.(error));
        return undefined;
      }
      if (command === "USER" || command === "PASS") {
        if (!session.secure) return "-ERR [SYS/PERM] STLS first: no login over clear text\r\n";
      }
      if (command === "USER") {
        session.user = args.join(" ");
        return "+OK\r\n";
      }
      if (command === "PASS") {
        const valid = session.user === options.user && rest === options.password;
        session.user = undefined;
        if (!valid) return "-ERR [AUTH] invalid login\r\n";
        if (locked) return "-ERR [IN-USE] the mailbox is in use by another session\r\n";
        locked = true;
        logins++;
        session = { state: "transaction", maildrop: [...held], deleted: new Set(), secure: session.secure };
        return `+OK ${session.maildrop.length} message(s)\r\n`;
      }
      return "-ERR not before the login\r\n";
    }
  };

  const server: Server =
    tls === "implicit"
      ? createTlsServer({ key, cert }, (socket) => serve(socket, true))
      : createTcpServer((socket) => serve(socket, false));
  server.on(tls === "implicit" ? "secureConnection" : "connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  if (tls === "implicit") server.on("tlsClientError", (error: Error) => options.onError?.(error));
  const port = await listen(server, options.port ?? 0, host);

  return {
    host,
    port,
    tls,
    ca: cert,
    user: options.user,
    password: options.password,
    deliver: (raw) => {
      const item = {
        uid: randomBytes(8).toString("hex"),
        deliveredAt: new Date().toISOString(),
        raw: `${raw.replace(/\r?\n/g, "\r\n").replace(/(?:\r\n)?$/, "")}\r\n`,
      };
      held.push(item);
      held.splice(0, Math.max(0, held.length - remember));
      delivered.keep(item);
      return item;
    },
    held: () => [...held],
    waitFor: (predicate, timeoutMs) => delivered.waitFor(predicate, timeoutMs),
    removed: () => [...removed],
    logins: () => logins,
    clear: () => {
      held = [];
      removed.length = 0;
      delivered.clear();
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

type Session =
  | { state: "authorization"; user: string | undefined; secure: boolean }
  | { state: "transaction"; maildrop: MailboxItem[]; deleted: Set<number>; secure: boolean };

/** The answer to a command of the transaction state (RFC 1939 §5). */
function transaction(
  session: Extract<Session, { state: "transaction" }>,
  command: string,
  args: string[],
): string {
  const { maildrop, deleted } = session;
  const live = maildrop
    .map((item, index) => ({ item, number: index + 1 }))
    .filter(({ number }) => !deleted.has(number));
  const sizeOf = (item: MailboxItem) => Buffer.byteLength(item.raw);
  /** The message `arg` names, if it exists and is not deleted. */
  const numbered = (arg: string | undefined) => {
    const number = Number(arg);
    return live.find((each) => each.number === number && /^\d+$/.test(arg ?? ""));
  };
  switch (command) {
    case "STAT":
      return `+OK ${live.length} ${live.reduce((total, { item }) => total + sizeOf(item), 0)}\r\n`;
    case "LIST":
    case "UIDL": {
      const value = (item: MailboxItem) => (command === "LIST" ? String(sizeOf(item)) : item.uid);
      if (args[0] !== undefined) {
        const one = numbered(args[0]);
        return one ? `+OK ${one.number} ${value(one.item)}\r\n` : "-ERR no such message\r\n";
      }
      return `+OK\r\n${live.map(({ item, number }) => `${number} ${value(item)}\r\n`).join("")}.\r\n`;
    }
    case "RETR":
    case "TOP": {
      const one = numbered(args[0]);
      if (!one) return "-ERR no such message\r\n";
      let lines = one.item.raw.replace(/\r\n$/, "").split("\r\n");
      if (command === "TOP") {
        const count = Number(args[1]);
        if (!(Number.isInteger(count) && count >= 0)) return "-ERR TOP takes a message and a line count\r\n";
        const blank = lines.indexOf("");
        lines = blank < 0 ? lines : lines.slice(0, blank + 1 + count);
      }
      // Dot-stuffing: a line that starts with "." gets another in front.
      const body = lines.map((line) => (line.startsWith(".") ? `.${line}` : line)).join("\r\n");
      return `+OK ${sizeOf(one.item)} octets\r\n${body}\r\n.\r\n`;
    }
    case "DELE": {
      const one = numbered(args[0]);
      if (!one) return "-ERR no such message\r\n";
      deleted.add(one.number);
      return `+OK message ${one.number} deleted\r\n`;
    }
    case "RSET":
      deleted.clear();
      return `+OK ${maildrop.length} message(s)\r\n`;
    default:
      return "-ERR unknown command\r\n";
  }
}

/** Calls `onLine` with each line `socket` sends, without its CRLF; a line too long ends the session. */
function lineReader(socket: Socket, onLine: (line: string) => void): { stop(): void } {
  let buffer = "";
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
      const line = buffer.slice(0, end).replace(/\r$/, "");
      buffer = buffer.slice(end + 1);
      onLine(line);
      // STLS hands the socket over: what follows is TLS, not for this reader.
      if (stopped) return;
    }
    if (buffer.length > MAX_COMMAND_LINE) socket.end("-ERR line too long\r\n");
  };
  let stopped = false;
  socket.on("data", onData);
  return {
    stop: () => {
      stopped = true;
      socket.off("data", onData);
    },
  };
}
