import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InboxEvent, InboxMessage, LiveInboxFeed } from "../../../core/inbox/index.ts";
import type { Logger } from "../../../core/logger.ts";
import { type GatewayInbox, InboxGateway } from "../../../gateway-ws/index.ts";
import { connectInbox, type InboxClient } from "../../support/inbox-client.ts";

// The gateway's ordering rules over a real WebSocket, with the inbox and the live feed in memory
// so a test can lose, reorder and repeat what the feed says: whatever the feed does, a client
// receives each stored message once, in seq order.

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silent,
};

class MemoryInbox implements GatewayInbox {
  readonly stored = new Map<string, InboxMessage[]>();
  /** Resolved before each read of stored messages: a test holds reads to interleave events. */
  gate: Promise<void> = Promise.resolve();

  store(userId: string): InboxMessage {
    const messages = this.stored.get(userId) ?? [];
    const message: InboxMessage = {
      userId,
      seq: messages.length + 1,
      messageId: randomUUID(),
      notificationType: "test",
      title: `#${messages.length + 1}`,
      body: "",
      createdAt: new Date(),
    };
    messages.push(message);
    this.stored.set(userId, messages);
    return message;
  }

  async after(userId: string, seq: number, limit: number): Promise<InboxMessage[]> {
    await this.gate;
    return (this.stored.get(userId) ?? []).filter((message) => message.seq > seq).slice(0, limit);
  }

  async counts(userId: string) {
    const messages = this.stored.get(userId) ?? [];
    return { unread: messages.length, headSeq: messages.length };
  }

  async acknowledge() {
    return 0;
  }

  async mark() {
    return { changed: 0, unread: 0 };
  }
}

class MemoryFeed implements LiveInboxFeed {
  private readonly listeners = new Map<string, (event: InboxEvent) => void>();
  private resumed: () => void = () => {};

  async listen(userId: string, listener: (event: InboxEvent) => void) {
    this.listeners.set(userId, listener);
    return () => this.listeners.delete(userId);
  }

  onResumed(listener: () => void) {
    this.resumed = listener;
  }

  async close() {}

  tell(message: InboxMessage) {
    this.listeners.get(message.userId)?.({ kind: "message", message });
  }

  resume() {
    this.resumed();
  }
}

const inbox = new MemoryInbox();
const feed = new MemoryFeed();
let server: Server;
let url: string;
const clients: InboxClient[] = [];

beforeAll(async () => {
  const gateway = new InboxGateway({
    inbox,
    feed,
    // Tokens are the user id itself here: how tokens are checked is tested end to end.
    authenticate: async (token) => ({ ok: true, userId: token, roles: ["user"] }),
    settings: {
      allowedOrigins: [],
      maxConnections: 100,
      maxConnectionsPerUser: 5,
      maxFrameBytes: 4096,
      authTimeoutMs: 5_000,
      heartbeatMs: 60_000,
      sendBufferBytes: 1024 * 1024,
      resumePageSize: 3,
    },
    counters: { refused() {}, closed() {}, delivered() {} },
    logger: silent,
  });
  server = createServer();
  server.on("upgrade", (request, socket, head) => gateway.handleUpgrade(request, socket, head));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await new Promise((resolve) => server.close(resolve));
});

async function connect(userId: string, since?: number): Promise<InboxClient> {
  const client = await connectInbox(url, { token: userId, ...(since !== undefined ? { since } : {}) });
  clients.push(client);
  await client.waitFor((frames) => frames.some((frame) => frame.caughtUp));
  return client;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe("the gateway's resume and ordering", () => {
  it("sends what was stored after since, in pages, then caughtUp, then live", async () => {
    const user = randomUUID();
    for (let i = 0; i < 10; i++) inbox.store(user);
    const client = await connect(user, 2);
    expect(client.seqs()).toEqual(range(3, 10));
    expect(client.frames.at(-1)?.caughtUp?.seq).toBe("10");
    feed.tell(inbox.store(user));
    await client.waitFor(() => client.seqs().length === 9);
    expect(client.seqs()).toEqual(range(3, 11));
  });

  it("reads from the store what a lost publish left out, and drops what was sent already", async () => {
    const user = randomUUID();
    const client = await connect(user);
    const lost = inbox.store(user);
    const second = inbox.store(user);
    feed.tell(second);
    await client.waitFor(() => client.seqs().length === 2);
    feed.tell(lost);
    feed.tell(second);
    const third = inbox.store(user);
    feed.tell(third);
    feed.tell(third);
    await client.waitFor(() => client.seqs().length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.seqs()).toEqual([1, 2, 3]);
  });

  it("keeps live events heard during a resume until the stored ones were sent", async () => {
    const user = randomUUID();
    for (let i = 0; i < 4; i++) inbox.store(user);
    let release = () => {};
    inbox.gate = new Promise((resolve) => {
      release = resolve;
    });
    const client = await connectInbox(url, { token: user, since: 0 });
    clients.push(client);
    await client.waitFor((frames) => frames.some((frame) => frame.ready));
    feed.tell(inbox.store(user));
    feed.tell(inbox.store(user));
    release();
    await client.waitFor(() => client.seqs().length === 6);
    expect(client.seqs()).toEqual(range(1, 6));
  });

  it("catches every connection up when the feed comes back after an interruption", async () => {
    const user = randomUUID();
    const client = await connect(user);
    inbox.store(user);
    inbox.store(user);
    feed.resume();
    await client.waitFor(() => client.seqs().length === 2);
    expect(client.seqs()).toEqual([1, 2]);
  });

  it("acts on frames sent right behind auth once the connection is ready", async () => {
    const user = randomUUID();
    const client = await connectInbox(url, { token: user });
    clients.push(client);
    client.send({ ping: { nonce: "early" } });
    await client.waitFor((frames) => frames.some((frame) => frame.pong?.nonce === "early"));
    expect(client.frames.map((frame) => Object.keys(frame)[0])).toEqual(["ready", "caughtUp", "pong"]);
  });

  it("treats a since beyond the inbox as the inbox's head", async () => {
    const user = randomUUID();
    inbox.store(user);
    const client = await connect(user, 99);
    expect(client.frames.at(-1)?.caughtUp?.seq).toBe("1");
    feed.tell(inbox.store(user));
    await client.waitFor(() => client.seqs().length === 1);
    expect(client.seqs()).toEqual([2]);
  });
});
