// A child process of `bench/gateway.ts`: thousands of lean in-app clients (gateway-ws/PROTOCOL.md)
// in one process, so that each process stays under its own limit of open files. It takes
// commands on stdin and reports what its sockets received on stdout, one JSON line each:
//   {"open": {url, users: [{index, token, since?}], addresses, inFlight, spreadMs}}
//       opens a socket per user from the next source address in turn, sends Auth, and counts
//       it open at CaughtUp; at most `inFlight` are between connect and CaughtUp at once, each
//       starting at a random moment within `spreadMs` (0: all as soon as they may). A
//       socket that fails or is closed by the server is opened again with `since` (the last
//       seq it received) after a short random pause, as a real client would.
//   {"drop": {indexes}}   cuts these sockets at once (no close handshake, as a network that
//                         goes away), answered {"dropped": n} when all are closed
// Reported in batches every BATCH_MS, the receipt time taken as each frame arrives:
//   {"ready": [[index, headSeq]], "got": [[index, seq, messageId, at]], "caughtUp": [[index, seq, at]],
//    "failed": [[index, reason]]}
// The clock is performance.timeOrigin + performance.now(), as in the bench: one machine, one clock.
import { createInterface } from "node:readline";
import WebSocket from "ws";

const BATCH_MS = 50;
const RETRY_MIN_MS = 250;
const RETRY_SPREAD_MS = 750;

interface Slot {
  index: number;
  token: string;
  /** The last seq received; resumes start after it. */
  lastSeq?: number;
  socket?: WebSocket;
  /** Cut on purpose: its close is not a failure. */
  dropped: boolean;
}

interface Batch {
  ready: [number, number][];
  got: [number, number, string, number][];
  caughtUp: [number, number, number][];
  failed: [number, string][];
}

const now = () => performance.timeOrigin + performance.now();
const slots = new Map<number, Slot>();
const waiting: Slot[] = [];
let url = "";
let addresses: string[] = [];
let nextAddress = 0;
let inFlight = 1;
let opening = 0;
/** Sockets being cut by the drop in progress. */
const dropping = new Set<number>();
let dropWanted = false;
let batch: Batch = { ready: [], got: [], caughtUp: [], failed: [] };

function flush(): void {
  if (Object.values(batch).every((list) => list.length === 0)) return;
  process.stdout.write(`${JSON.stringify(batch)}\n`);
  batch = { ready: [], got: [], caughtUp: [], failed: [] };
}
setInterval(flush, BATCH_MS);

/** Answers a drop after what the dropped sockets received before it. */
function dropDone(): void {
  dropWanted = false;
  flush();
  process.stdout.write(`${JSON.stringify({ dropped: true })}\n`);
}

function openMore(): void {
  while (opening < inFlight && waiting.length > 0) connect(waiting.shift() as Slot);
}

function connect(slot: Slot): void {
  opening++;
  let counted = true;
  const settle = () => {
    if (!counted) return;
    counted = false;
    opening--;
    openMore();
  };
  const socket = new WebSocket(url, ["notification.v1"], {
    localAddress: addresses[nextAddress++ % addresses.length],
    perMessageDeflate: false,
    handshakeTimeout: 30_000,
  });
  slot.socket = socket;
  slot.dropped = false;
  let failure: string | undefined;
  socket.on("open", () => {
    const since = slot.lastSeq === undefined ? {} : { since: String(slot.lastSeq) };
    socket.send(JSON.stringify({ auth: { token: slot.token, ...since } }));
  });
  socket.on("message", (data) => {
    const at = now();
    const frame = JSON.parse(data.toString()) as {
      ready?: { headSeq: string };
      message?: { seq: string; messageId: string };
      caughtUp?: { seq: string };
    };
    if (frame.message) {
      const seq = Number(frame.message.seq);
      slot.lastSeq = Math.max(slot.lastSeq ?? 0, seq);
      batch.got.push([slot.index, seq, frame.message.messageId, at]);
    } else if (frame.ready) {
      slot.lastSeq ??= Number(frame.ready.headSeq);
      batch.ready.push([slot.index, Number(frame.ready.headSeq)]);
    } else if (frame.caughtUp) {
      batch.caughtUp.push([slot.index, Number(frame.caughtUp.seq), at]);
      settle();
    }
  });
  socket.on("unexpected-response", (_request, response) => {
    failure = `HTTP ${response.statusCode}`;
    socket.terminate();
  });
  socket.on("error", (error: NodeJS.ErrnoException) => {
    failure ??= error.code ?? error.message;
  });
  socket.on("close", (code) => {
    settle();
    if (slot.dropped) {
      dropping.delete(slot.index);
      if (dropping.size === 0 && dropWanted) dropDone();
      return;
    }
    batch.failed.push([slot.index, failure ?? `closed ${code}`]);
    setTimeout(
      () => {
        if (slot.dropped) return;
        waiting.push(slot);
        openMore();
      },
      RETRY_MIN_MS + Math.random() * RETRY_SPREAD_MS,
    );
  });
}

interface Command {
  open?: {
    url: string;
    users: { index: number; token: string; since?: number }[];
    addresses: string[];
    inFlight: number;
    spreadMs: number;
  };
  drop?: { indexes: number[] };
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as Command;
  if (command.open) {
    ({ url, addresses, inFlight } = command.open);
    for (const user of command.open.users) {
      const slot: Slot = slots.get(user.index) ?? { index: user.index, token: user.token, dropped: false };
      if (user.since !== undefined) slot.lastSeq = user.since;
      slots.set(user.index, slot);
      if (command.open.spreadMs === 0) waiting.push(slot);
      else {
        setTimeout(() => {
          waiting.push(slot);
          openMore();
        }, Math.random() * command.open.spreadMs);
      }
    }
    openMore();
  }
  if (command.drop) {
    dropWanted = true;
    for (const index of command.drop.indexes) {
      const slot = slots.get(index);
      if (!slot) continue;
      slot.dropped = true;
      const queued = waiting.indexOf(slot);
      if (queued >= 0) waiting.splice(queued, 1);
      if (!slot.socket || slot.socket.readyState === WebSocket.CLOSED) continue;
      dropping.add(index);
      slot.socket.terminate();
    }
    if (dropping.size === 0) dropDone();
  }
}
// The bench closed stdin: it is done with us.
process.exit(0);
