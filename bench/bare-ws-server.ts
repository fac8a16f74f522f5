// The ceiling `bench/gateway.ts` measures the in-app gateway against: a bare `ws` server in a
// process of its own, speaking just enough of the frame protocol for the same clients, with
// each user's messages kept in memory instead of PostgreSQL and handed over on stdin instead
// of Redis. What the gateway does besides (checking the token's signature, the frames'
// schema, the store, the feed, bounded buffers) is what the difference between the two costs.
//   node bench/bare-ws-server.ts <port> <heartbeatMs>
// stdin, one JSON line each:
//   {"to": userId, "messageId": id}  stores the user's next message and sends it to their sockets
//   {"stats": n}                     answered {"stats": n, "heapUsed": bytes, "connections": count}
//                                    on stdout once everything before it was done
// Prints {"listening": port} once the port is open.
import { createInterface } from "node:readline";
import { type WebSocket, WebSocketServer } from "ws";

const [portText, heartbeatText] = process.argv.slice(2);

interface Inbox {
  /** The message frames, seq n at n − 1. */
  frames: string[];
  sockets: Set<WebSocket>;
}

const inboxes = new Map<string, Inbox>();
const alive = new WeakSet<WebSocket>();
const open = new Set<WebSocket>();

function inboxOf(userId: string): Inbox {
  let inbox = inboxes.get(userId);
  if (!inbox) {
    inbox = { frames: [], sockets: new Set() };
    inboxes.set(userId, inbox);
  }
  return inbox;
}

/** The token's subject, read and not checked: this server is the floor, not a gateway. */
function subjectOf(token: string): string {
  const payload = token.split(".")[1] ?? "";
  return (JSON.parse(Buffer.from(payload, "base64url").toString()) as { sub: string }).sub;
}

const server = new WebSocketServer({
  host: "127.0.0.1",
  port: Number(portText),
  clientTracking: false,
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has("notification.v1") ? "notification.v1" : false),
});

server.on("connection", (socket) => {
  open.add(socket);
  alive.add(socket);
  socket.on("pong", () => alive.add(socket));
  socket.once("message", (data) => {
    const { auth } = JSON.parse(data.toString()) as { auth: { token: string; since?: string } };
    const userId = subjectOf(auth.token);
    const inbox = inboxOf(userId);
    inbox.sockets.add(socket);
    socket.once("close", () => inbox.sockets.delete(socket));
    const headSeq = inbox.frames.length;
    socket.send(JSON.stringify({ ready: { userId, headSeq: String(headSeq) } }));
    const since = Math.min(Number(auth.since ?? headSeq), headSeq);
    for (const frame of inbox.frames.slice(since)) socket.send(frame);
    socket.send(JSON.stringify({ caughtUp: { seq: String(headSeq) } }));
  });
  socket.once("close", () => open.delete(socket));
});

// Pinged as often as the gateway pings its clients, so that both do the same idle work.
setInterval(() => {
  for (const socket of open) {
    if (!alive.has(socket)) {
      socket.terminate();
      continue;
    }
    alive.delete(socket);
    socket.ping();
  }
}, Number(heartbeatText)).unref();

server.once("listening", () => process.stdout.write(`${JSON.stringify({ listening: Number(portText) })}\n`));

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { to?: string; messageId?: string; stats?: number };
  if (command.to) {
    const inbox = inboxOf(command.to);
    const seq = inbox.frames.length + 1;
    const frame = JSON.stringify({ message: { seq: String(seq), messageId: command.messageId } });
    inbox.frames.push(frame);
    for (const socket of inbox.sockets) socket.send(frame);
  }
  if (command.stats !== undefined) {
    const { heapUsed } = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ stats: command.stats, heapUsed, connections: open.size })}\n`);
  }
}
process.exit(0);
