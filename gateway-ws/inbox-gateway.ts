import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { InboxEvent, LiveInboxFeed } from "../core/inbox/index.ts";
import type { Logger } from "../core/logger.ts";
import {
  type ConnectionSettings,
  type GatewayInbox,
  InboxConnection,
  type TokenAuthenticator,
} from "./inbox-connection.ts";
import { readSubprotocols, SUBPROTOCOL } from "./protocol.ts";
import { offeredSubprotocols, originAllowed, refuseUpgrade } from "./upgrade-policy.ts";

// A connection whose user's events cannot be heard is refused rather than left waiting.
const LISTEN_TIMEOUT_MS = 5_000;
// Connections pinged between two turns of the event loop.
const HEARTBEAT_SLICE = 500;

/** Where clients open their WebSocket. */
export const GATEWAY_PATH = "/ws";

export interface InboxGatewaySettings extends ConnectionSettings {
  /** Origins a browser may connect from; "*" for any. Empty: no browser page may connect. */
  allowedOrigins: readonly string[];
  maxConnections: number;
  maxConnectionsPerUser: number;
  /** The largest frame a client may send; a larger one closes the connection with 1009. */
  maxFrameBytes: number;
}

/** What the gateway counts, for its metrics. */
export interface GatewayCounters {
  refused(reason: string): void;
  closed(code: number): void;
  delivered(count: number): void;
}

export interface InboxGatewayDeps {
  inbox: GatewayInbox;
  feed: LiveInboxFeed;
  authenticate: TokenAuthenticator;
  settings: InboxGatewaySettings;
  counters: GatewayCounters;
  logger: Logger;
}

/** Why an upgrade is answered with a plain HTTP status instead of a WebSocket. */
interface Refusal {
  status: 400 | 403 | 404 | 503;
  reason: string;
  text: string;
  headers?: Record<string, string>;
}

/** The connections of one user on this instance, and their subscription to the user's events. */
interface UserConnections {
  connections: Set<InboxConnection>;
  listening: Promise<() => void>;
}

/**
 * The in-app WebSocket gateway of one process: it takes upgrades on GATEWAY_PATH, holds the
 * connections, listens to the live feed of each user it holds a connection of and hands the
 * events to them, pings them all, and sends them elsewhere when the process drains.
 */
export class InboxGateway {
  private readonly server: WebSocketServer;
  private readonly users = new Map<string, UserConnections>();
  private readonly connections = new Set<InboxConnection>();
  private readonly heartbeat: NodeJS.Timeout;
  private upgrading = 0;
  private draining = false;

  constructor(private readonly deps: InboxGatewayDeps) {
    this.server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: deps.settings.maxFrameBytes,
      // Compression would keep a zlib context per connection: memory the gateway cannot spare at scale.
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.heartbeat = setInterval(() => void this.pingAll(), deps.settings.heartbeatMs);
    this.heartbeat.unref();
    deps.feed.onResumed(() => {
      deps.logger.info(
        { connections: this.connections.size },
        "live feed back: catching every connection up",
      );
      for (const connection of this.connections) connection.catchUp();
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Takes an HTTP upgrade of the gateway's server: refused with a plain status, or made a connection. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const offered = readSubprotocols(offeredSubprotocols(request));
    const refusal = this.refusalOf(request, offered);
    if (refusal) {
      this.deps.counters.refused(refusal.reason);
      refuseUpgrade(socket, refusal.status, refusal.text, refusal.headers);
      return;
    }
    this.upgrading++;
    // ws answers a handshake it refuses (a bad key or version) itself and never calls back.
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      this.upgrading--;
    };
    socket.once("close", settle);
    this.server.handleUpgrade(request, socket, head, (socketOpened) => {
      settle();
      if (this.draining) {
        socketOpened.close(1012, "the gateway is shutting down");
        return;
      }
      const connection = new InboxConnection(randomUUID(), socketOpened, this.host(), offered.token);
      this.connections.add(connection);
      socketOpened.once("close", () => this.connections.delete(connection));
    });
  }

  private refusalOf(
    request: IncomingMessage,
    offered: { ours: boolean; token?: string },
  ): Refusal | undefined {
    const path = (request.url ?? "").split("?", 1)[0];
    if (path !== GATEWAY_PATH) {
      return { status: 404, reason: "unknown_path", text: `WebSockets are opened on ${GATEWAY_PATH}` };
    }
    if (this.draining) {
      return {
        status: 503,
        reason: "draining",
        text: "this gateway is shutting down",
        headers: { "Retry-After": "1" },
      };
    }
    if (this.connections.size + this.upgrading >= this.deps.settings.maxConnections) {
      return {
        status: 503,
        reason: "process_full",
        text: "this gateway holds as many connections as it may",
        headers: { "Retry-After": "5" },
      };
    }
    if (!originAllowed(request.headers.origin, this.deps.settings.allowedOrigins)) {
      return { status: 403, reason: "origin", text: "this origin may not open the gateway's WebSocket" };
    }
    if (offered.token !== undefined && !offered.ours) {
      return {
        status: 400,
        reason: "subprotocol",
        text: `a token in Sec-WebSocket-Protocol needs "${SUBPROTOCOL}" offered too`,
      };
    }
    return undefined;
  }

  /**
   * Stops taking connections and tells every client to reconnect elsewhere, spread over a
   * second so they do not all land on the next instance at once. True when all closed by the deadline.
   */
  async drain(deadline: number): Promise<boolean> {
    this.draining = true;
    clearInterval(this.heartbeat);
    for (const connection of this.connections) {
      connection.redirect("the gateway is shutting down", Math.floor(Math.random() * 1000));
    }
    while (this.connections.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const closedAll = this.connections.size === 0;
    await this.deps.feed.close();
    return closedAll;
  }

  /**
   * One heartbeat of every connection, a slice at a time with I/O in between: pinging tens of
   * thousands in one go held live messages up for half a second.
   */
  private async pingAll(): Promise<void> {
    let inSlice = 0;
    for (const connection of [...this.connections]) {
      connection.heartbeat();
      if (++inSlice === HEARTBEAT_SLICE) {
        inSlice = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  private host() {
    return {
      inbox: this.deps.inbox,
      authenticate: this.deps.authenticate,
      settings: this.deps.settings,
      logger: this.deps.logger,
      join: (connection: InboxConnection) => this.join(connection),
      leave: (connection: InboxConnection) => this.leave(connection),
      noteClose: (code: number) => this.deps.counters.closed(code),
      noteDelivered: (count: number) => this.deps.counters.delivered(count),
    };
  }

  private async join(connection: InboxConnection): Promise<boolean> {
    const { userId } = connection;
    let user = this.users.get(userId);
    if (user && user.connections.size >= this.deps.settings.maxConnectionsPerUser) {
      this.deps.counters.refused("user_full");
      return false;
    }
    if (!user) {
      const connections = new Set<InboxConnection>();
      const listening = this.deps.feed.listen(userId, (event: InboxEvent) => {
        for (const each of connections) each.hear(event);
      });
      user = { connections, listening };
      this.users.set(userId, user);
      // A failed subscription is forgotten, so the next connection of the user tries again.
      listening.catch(() => {
        if (this.users.get(userId) === user) this.users.delete(userId);
      });
    }
    user.connections.add(connection);
    await withTimeout(user.listening, LISTEN_TIMEOUT_MS, "the live feed did not confirm the subscription");
    return true;
  }

  private leave(connection: InboxConnection): void {
    const user = this.users.get(connection.userId);
    if (!user?.connections.delete(connection) || user.connections.size > 0) return;
    this.users.delete(connection.userId);
    user.listening.then(
      (stop) => stop(),
      () => {},
    );
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
