// A client of the in-app gateway for tests, speaking the frame protocol (gateway-ws/PROTOCOL.md)
// over a real WebSocket, keeping every frame it received.
import WebSocket from "ws";

export interface InboxFrame {
  ready?: { userId: string; headSeq: string; unread?: number; connectionId: string; protocolVersion: string };
  message?: { seq: string; messageId: string; title: string; body: string; notificationType: string };
  caughtUp?: { seq?: string };
  changed?: { seqs: string[]; change: string; unread?: number };
  pong?: { nonce?: string };
  reconnect?: { reason: string; afterMs?: number };
  error?: { code: string; message: string };
}

export interface InboxClient {
  socket: WebSocket;
  frames: InboxFrame[];
  /** Seqs of the messages received, in the order they came. */
  seqs(): number[];
  /** Resolves with the close code and reason once the gateway (or the network) closed it. */
  closed: Promise<{ code: number; reason: string }>;
  send(frame: object): void;
  waitFor(predicate: (frames: InboxFrame[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

export interface ConnectOptions {
  /** Sent in the Auth frame; none: no Auth frame is sent. */
  token?: string;
  /** Put in Sec-WebSocket-Protocol as bearer.<token> instead (an Auth frame is still sent, without it). */
  tokenInHeader?: boolean;
  since?: number;
  origin?: string;
  protocols?: string[];
  /** False: the client answers no ping, as a dead network would. */
  autoPong?: boolean;
}

/** Opens a WebSocket to the gateway; rejects when the upgrade is refused, with its HTTP status. */
export function connectInbox(gatewayUrl: string, options: ConnectOptions = {}): Promise<InboxClient> {
  const url = `${gatewayUrl.replace(/^http/, "ws")}/ws`;
  const protocols =
    options.protocols ??
    (options.tokenInHeader && options.token
      ? ["notification.v1", `bearer.${options.token}`]
      : ["notification.v1"]);
  const socket = new WebSocket(url, protocols, {
    ...(options.origin ? { origin: options.origin } : {}),
    autoPong: options.autoPong ?? true,
  });
  const frames: InboxFrame[] = [];
  const waiters = new Set<() => void>();
  socket.on("message", (data) => {
    frames.push(JSON.parse(data.toString()) as InboxFrame);
    for (const waiter of waiters) waiter();
  });
  let closedWith = "";
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.once("close", (code, reason) => {
      closedWith = `${code} ${reason.toString()}`;
      resolve({ code, reason: reason.toString() });
      for (const waiter of waiters) waiter();
    });
  });
  const client: InboxClient = {
    socket,
    frames,
    closed,
    seqs: () => frames.flatMap((frame) => (frame.message ? [Number(frame.message.seq)] : [])),
    send: (frame) => socket.send(JSON.stringify(frame)),
    waitFor: (predicate, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate(frames)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          } else if (socket.readyState === WebSocket.CLOSED) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(
              new Error(
                `the socket closed first (${closedWith}); frames: ${JSON.stringify(frames).slice(0, 2000)}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`no such frame within ${timeoutMs} ms; frames: ${JSON.stringify(frames).slice(-2000)}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () => socket.close(1000),
  };
  return new Promise((resolve, reject) => {
    socket.once("open", () => {
      if (options.token !== undefined || options.since !== undefined) {
        client.send({
          auth: {
            ...(options.token && !options.tokenInHeader ? { token: options.token } : {}),
            ...(options.since !== undefined ? { since: String(options.since) } : {}),
          },
        });
      }
      resolve(client);
    });
    socket.once("unexpected-response", (_request, response) => {
      reject(
        Object.assign(new Error(`upgrade refused: ${response.statusCode}`), { status: response.statusCode }),
      );
    });
    socket.once("error", reject);
  });
}
