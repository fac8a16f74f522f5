import type { WebSocket } from "ws";
import type { Role } from "../core/caller.ts";
import type { InboxEvent, InboxManager, InboxMessage } from "../core/inbox/index.ts";
import type { Logger } from "../core/logger.ts";
import type { Auth } from "../gen/platform/notification/gateway/v1/frames_pb.ts";
import { inboxMessage, inboxSeqsOf } from "../mappers/index.ts";
import {
  CloseCode,
  encodeServerFrame,
  inboxChangeProto,
  PROTOCOL_VERSION,
  parseClientFrame,
  type ServerFrameInit,
} from "./protocol.ts";

// A client may send frames right behind its auth; more than this before ready is not a client.
const MAX_FRAMES_BEFORE_READY = 100;

/** What checking a token tells the gateway. */
export type TokenCheck =
  | { ok: true; userId: string; roles: readonly Role[]; expiresAt?: Date }
  | { ok: false; reason: string; unavailable?: boolean };

export type TokenAuthenticator = (token: string) => Promise<TokenCheck>;

export type GatewayInbox = Pick<InboxManager, "after" | "counts" | "acknowledge" | "mark">;

/** What a connection needs of the gateway that holds it. */
export interface ConnectionHost {
  inbox: GatewayInbox;
  authenticate: TokenAuthenticator;
  /** Adds the connection to its user's; false when the user has too many already. Resolves once the user's events are heard. */
  join(connection: InboxConnection): Promise<boolean>;
  leave(connection: InboxConnection): void;
  logger: Logger;
  settings: ConnectionSettings;
  /** Counts what happened, for the gateway's metrics. */
  noteClose(code: number): void;
  noteDelivered(count: number): void;
}

export interface ConnectionSettings {
  authTimeoutMs: number;
  heartbeatMs: number;
  sendBufferBytes: number;
  /** How many stored messages one read of a resume takes. */
  resumePageSize: number;
}

/**
 * One client's WebSocket: authenticated by its first frame, then sent every message of its
 * user's inbox after the seq it resumed from, in order, each once. Live messages that arrive
 * while stored ones are read wait; one that arrives after a seq not yet sent (published out
 * of order, or after one the feed lost) makes the connection read the missing ones from the
 * store. So a client never sees a gap or a duplicate, whichever instance or feed failed.
 */
export class InboxConnection {
  userId = "";
  /** The highest seq this connection sent. */
  private lastSent = 0;
  private state: "authenticating" | "ready" | "closed" = "authenticating";
  private syncing = false;
  private syncAgain = false;
  private pending: InboxEvent[] = [];
  private alive = true;
  /** Frames that came after auth and before the connection was ready; undefined until auth comes. */
  private waiting: string[] | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly authDeadline: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(
    readonly id: string,
    private readonly socket: WebSocket,
    private readonly host: ConnectionHost,
    /** The token given in Sec-WebSocket-Protocol, if any. */
    private readonly headerToken: string | undefined,
  ) {
    this.log = host.logger.child({ connection: id });
    this.authDeadline = setTimeout(() => {
      if (this.state === "authenticating") this.close(CloseCode.unauthenticated, "no auth frame in time");
    }, host.settings.authTimeoutMs);
    this.timers.push(this.authDeadline);
    socket.on("message", (data, isBinary) => this.onFrame(data.toString(), isBinary));
    socket.on("pong", () => {
      this.alive = true;
    });
    socket.on("close", (code) => this.closed(code));
    socket.on("error", (error) => this.log.debug({ err: error }, "WebSocket error"));
  }

  get isReady(): boolean {
    return this.state === "ready";
  }

  /** A method rather than a comparison, so the compiler does not assume the state across an await. */
  private isClosed(): boolean {
    return this.state === "closed";
  }

  /** One heartbeat: a connection that did not answer the last ping is cut. */
  heartbeat(): void {
    if (this.state === "closed") return;
    if (!this.alive) {
      this.log.debug({ userId: this.userId }, "no pong before the heartbeat deadline: cut");
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  /** An event of the user's inbox, heard live. */
  hear(event: InboxEvent): void {
    if (this.state === "closed") return;
    if (this.syncing || this.state === "authenticating") {
      this.pending.push(event);
      return;
    }
    this.apply(event);
  }

  /** The feed was interrupted: whatever it lost is read from the store. */
  catchUp(): void {
    if (this.state === "ready") void this.sync();
  }

  /** Tells the client to go elsewhere, then closes. */
  redirect(reason: string, afterMs: number): void {
    if (this.state === "closed") return;
    this.send({ frame: { case: "reconnect", value: { reason, afterMs } } });
    this.close(CloseCode.serviceRestart, "the gateway is shutting down");
  }

  close(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.finish();
    this.socket.close(code, reason);
  }

  private async onFrame(text: string, isBinary: boolean): Promise<void> {
    if (this.state === "closed") return;
    if (isBinary) {
      this.refuse("invalid_frame", "frames are JSON text, never binary");
      return;
    }
    const parsed = parseClientFrame(text);
    if (!parsed.ok) {
      this.refuse("invalid_frame", parsed.reason);
      return;
    }
    const frame = parsed.frame;
    if (this.state === "authenticating") {
      if (this.waiting) {
        // Frames sent right behind auth are acted on once the connection is ready.
        if (this.waiting.push(text) > MAX_FRAMES_BEFORE_READY) {
          this.close(CloseCode.protocolViolation, "too many frames before ready");
        }
        return;
      }
      if (frame.case !== "auth") {
        this.close(CloseCode.protocolViolation, "the first frame must be auth");
        return;
      }
      // The client did its part: the gateway's own slowness is never blamed on its token.
      clearTimeout(this.authDeadline);
      this.waiting = [];
      await this.authenticate(frame.value);
      const waiting = this.waiting;
      this.waiting = undefined;
      for (const early of waiting) await this.onFrame(early, false);
      return;
    }
    try {
      switch (frame.case) {
        case "auth":
          this.close(CloseCode.protocolViolation, "auth is sent once, first");
          return;
        case "ack": {
          const upTo = Math.min(Number(frame.value.seq), this.lastSent);
          if (upTo > 0) await this.host.inbox.acknowledge(this.userId, upTo);
          return;
        }
        case "read": {
          const seqs = inboxSeqsOf(frame.value.seqs);
          if (seqs.length > 0) await this.host.inbox.mark(this.userId, seqs, "read");
          return;
        }
        case "ping":
          this.send({ frame: { case: "pong", value: { nonce: frame.value.nonce } } });
          return;
        case undefined:
          return;
      }
    } catch (error) {
      this.log.warn({ err: error, userId: this.userId }, "a client frame could not be acted on");
      this.refuse("unavailable", "the inbox cannot be changed right now; send it again later");
    }
  }

  private async authenticate(auth: Auth): Promise<void> {
    const token = auth.token || this.headerToken;
    if (!token) {
      this.close(CloseCode.unauthenticated, "no token: send it in auth or in Sec-WebSocket-Protocol");
      return;
    }
    let check: TokenCheck;
    try {
      check = await this.host.authenticate(token);
    } catch (error) {
      this.log.warn({ err: error }, "a token could not be checked");
      check = { ok: false, reason: "the token cannot be checked right now", unavailable: true };
    }
    if (this.state === "closed") return;
    if (!check.ok) {
      this.close(check.unavailable ? CloseCode.tryAgainLater : CloseCode.unauthenticated, check.reason);
      return;
    }
    if (!check.roles.includes("user")) {
      this.close(CloseCode.forbidden, "the token is not a user's");
      return;
    }
    this.userId = check.userId;
    this.syncing = true;
    let headSeq = 0;
    try {
      if (!(await this.host.join(this))) {
        this.close(CloseCode.tooManyConnections, "this user has too many connections");
        return;
      }
      const counts = await this.host.inbox.counts(this.userId);
      if (this.isClosed()) return;
      headSeq = counts.headSeq;
      this.lastSent = Math.min(auth.since === undefined ? headSeq : Number(auth.since), headSeq);
      this.state = "ready";
      if (check.expiresAt) this.expireAt(check.expiresAt);
      this.send({
        frame: {
          case: "ready",
          value: {
            protocolVersion: PROTOCOL_VERSION,
            connectionId: this.id,
            userId: this.userId,
            headSeq: BigInt(headSeq),
            unread: counts.unread,
            heartbeatIntervalMs: this.host.settings.heartbeatMs,
          },
        },
      });
    } catch (error) {
      this.log.warn({ err: error, userId: this.userId }, "a connection could not be made ready");
      this.close(CloseCode.tryAgainLater, "the inbox is unavailable; try again later");
      return;
    } finally {
      this.syncing = false;
    }
    this.log.debug({ userId: this.userId, since: this.lastSent }, "connection ready");
    // Nothing stored is missing when the client has the head: what came since was heard live.
    if (this.lastSent < headSeq) await this.sync();
    else this.applyPending();
    this.send({ frame: { case: "caughtUp", value: { seq: BigInt(this.lastSent) } } });
  }

  private apply(event: InboxEvent): void {
    if (event.kind === "changed") {
      const { seqs, change, unread } = event;
      this.send({
        frame: {
          case: "changed",
          value: { seqs: seqs.map(BigInt), change: inboxChangeProto(change), unread },
        },
      });
      return;
    }
    const { seq } = event.message;
    if (seq <= this.lastSent) return;
    if (seq === this.lastSent + 1) this.deliver(event.message);
    else void this.sync();
  }

  /** Sends what the store holds after the last seq sent, then what was heard meanwhile. */
  private async sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    try {
      for (;;) {
        const page = this.host.settings.resumePageSize;
        const stored = await this.host.inbox.after(this.userId, this.lastSent, page);
        for (const message of stored) {
          if (this.state !== "ready") return;
          if (message.seq > this.lastSent && !this.deliver(message)) return;
        }
        if (stored.length === page) continue;
        if (!this.syncAgain) break;
        this.syncAgain = false;
      }
    } catch (error) {
      this.log.warn({ err: error, userId: this.userId }, "missed messages could not be read");
      this.close(CloseCode.tryAgainLater, "the inbox is unavailable; reconnect with since");
      return;
    } finally {
      this.syncing = false;
    }
    this.applyPending();
  }

  /** Events heard while stored messages were read, in the order heard; stops if one starts a read. */
  private applyPending(): void {
    while (!this.syncing && this.pending.length > 0 && this.state === "ready") {
      this.apply(this.pending.shift() as InboxEvent);
    }
  }

  private deliver(message: InboxMessage): boolean {
    if (!this.send({ frame: { case: "message", value: inboxMessage(message) } })) return false;
    this.lastSent = message.seq;
    this.host.noteDelivered(1);
    return true;
  }

  /** Queues a frame; a client whose buffer is full is closed instead of growing it. */
  private send(frame: ServerFrameInit): boolean {
    if (this.state === "closed") return false;
    const text = encodeServerFrame(frame);
    if (this.socket.bufferedAmount + text.length > this.host.settings.sendBufferBytes) {
      this.log.info({ userId: this.userId, buffered: this.socket.bufferedAmount }, "slow consumer closed");
      this.close(CloseCode.slowConsumer, "slow consumer: the send buffer is full");
      return false;
    }
    this.socket.send(text);
    return true;
  }

  private refuse(code: string, message: string): void {
    this.send({ frame: { case: "error", value: { code, message } } });
  }

  private expireAt(expiresAt: Date): void {
    // Node's timers overflow past 2^31 ms; a token valid that long is checked again then.
    const ms = Math.min(Math.max(expiresAt.getTime() - Date.now(), 0), 2 ** 31 - 1);
    this.timers.push(setTimeout(() => this.close(CloseCode.tokenExpired, "the token expired"), ms));
  }

  private closed(code: number): void {
    this.finish();
    this.host.noteClose(code);
    this.log.debug({ userId: this.userId, code }, "connection closed");
  }

  private finish(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    for (const timer of this.timers) clearTimeout(timer);
    this.pending = [];
    if (this.userId) this.host.leave(this);
  }
}
