import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Consumer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_ENV, authHeaders, bearerToken } from "../support/credentials.ts";
import { connectInbox, type InboxClient } from "../support/inbox-client.ts";
import {
  type CollectedRecord,
  collect,
  createActiveTemplate,
  EVENTS_TOPIC,
  messagesOf,
  pipelineEnv,
  testKafka,
  testOrm,
} from "../support/pipeline.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";

// The in-app channel end to end: a worker stores each message in the user's inbox and publishes
// it; two gateway processes deliver it to whichever holds the user's sockets, resume without
// gaps or duplicates across a SIGKILL, cut slow clients off, refuse what is not a user's, and
// turn acks and reads into `delivered` and `opened`.
const run = randomUUID().slice(0, 8);
const template = `inbox_${run}`;
const dir = mkdtempSync(join(tmpdir(), "inbox-gateway-"));
const APP_ORIGIN = "http://app.test";
const gatewayEnv = {
  ...AUTH_ENV,
  ...pipelineEnv(join(dir, "sink.jsonl")),
  GATEWAY_ALLOWED_ORIGINS: APP_ORIGIN,
  GATEWAY_AUTH_TIMEOUT_MS: "1000",
  // Longer than a slow client takes to fill its buffer: the heartbeat has a test of its own.
  GATEWAY_HEARTBEAT_MS: "20000",
  GATEWAY_SEND_BUFFER_BYTES: String(64 * 1024),
  GATEWAY_MAX_FRAME_BYTES: "4096",
  GATEWAY_MAX_CONNECTIONS_PER_USER: "3",
};
// Sends and runs a gateway; `edge` is a second gateway instance.
let hub: ServiceProcess;
let edge: ServiceProcess;
let orm: MikroORM;
let events: { records: CollectedRecord[]; consumer: Consumer };
const clients: InboxClient[] = [];

const userToken = (userId: string) => bearerToken(userId, ["user"]);

async function open(gateway: ServiceProcess, userId: string, since?: number): Promise<InboxClient> {
  const client = await connectInbox(gateway.gatewayUrl, {
    token: userToken(userId),
    ...(since !== undefined ? { since } : {}),
  });
  clients.push(client);
  await client.waitFor((frames) => frames.some((frame) => frame.caughtUp));
  return client;
}

/** Sends one in-app message to `userId` through the API; answers the request id. */
async function sendInApp(userId: string, text = "hello"): Promise<string> {
  const requestId = `req-${randomUUID()}`;
  const response = await fetch(`${hub.httpUrl}/api/v1/notifications/send/direct`, {
    method: "POST",
    headers: { ...authHeaders("app-backend", ["service"]), "content-type": "application/json" },
    body: JSON.stringify({
      requestId,
      recipients: [{ userId }],
      templateName: template,
      languageCode: "ru",
      payloadVariables: { text },
      deliveryOptions: { channels: ["in_app"], priority: "high" },
    }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return requestId;
}

async function inParallel(count: number, width: number, work: (index: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

beforeAll(async () => {
  [hub, edge] = await Promise.all([
    startServiceProcess({ role: "all", env: gatewayEnv }),
    startServiceProcess({ role: "gateway", env: gatewayEnv }),
  ]);
  orm = testOrm();
  events = await collect(testKafka(`inbox-gateway-${run}`), EVENTS_TOPIC);
  await createActiveTemplate(
    hub.httpUrl,
    template,
    [{ language_code: "ru", subject: "Новое: {{text}}", body: "{{text}}", body_html: "" }],
    "CHANNEL_IN_APP",
  );
  expect(
    await eventually(async () => hub.logs.some((line) => line.message === "send pipeline consuming"), 60_000),
  ).toBe(true);
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await events?.consumer.disconnect();
  await Promise.all([hub?.stop(), edge?.stop()]);
  await orm?.close();
});

describe("the in-app gateway", () => {
  it("delivers a message dispatched by the worker on whichever gateway holds the user's sockets, on every device", async () => {
    const user = randomUUID();
    const onEdge = await open(edge, user);
    const onHub = await open(hub, user);
    expect(onEdge.frames[0]?.ready).toMatchObject({ userId: user, protocolVersion: "1", headSeq: "0" });

    await sendInApp(user, "первое");
    for (const device of [onEdge, onHub]) {
      await device.waitFor((frames) => frames.some((frame) => frame.message));
      expect(device.frames.find((frame) => frame.message)?.message).toMatchObject({
        seq: "1",
        title: "Новое: первое",
        body: "первое",
        notificationType: template,
      });
    }
  }, 60_000);

  it("resumes with since after the gateway is SIGKILLed mid-stream: no gap and no duplicate", async () => {
    const user = randomUUID();
    const total = 120;
    const first = await open(edge, user);
    const sending = inParallel(total, 4, (index) => sendInApp(user, `m${index}`));
    await first.waitFor((frames) => frames.filter((frame) => frame.message).length >= 20, 30_000);
    edge.child.kill("SIGKILL");
    await first.closed;
    const before = first.seqs();
    edge = await startServiceProcess({ role: "gateway", env: gatewayEnv });
    const since = before.at(-1) ?? 0;
    const second = await open(edge, user, since);
    await sending;
    await second.waitFor(
      (frames) => Math.max(0, ...frames.flatMap((f) => (f.message ? [Number(f.message.seq)] : []))) >= total,
      30_000,
    );

    expect(before).toEqual(range(1, before.length));
    expect([...before, ...second.seqs()]).toEqual(range(1, total));
  }, 120_000);

  it("cuts a slow consumer off with 4008 without delaying the others", async () => {
    const slowUser = randomUUID();
    const fastUser = randomUUID();
    const slow = await open(edge, slowUser);
    const fast = await open(edge, fastUser);
    // The slow client stops reading: what the gateway sends piles up in its buffer.
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    // More than the loopback's socket buffers take in besides the gateway's own 64 KiB.
    const big = "x".repeat(100_000);
    const started = Date.now();
    await inParallel(200, 6, (index) =>
      index % 10 === 0 ? sendInApp(fastUser, `f${index}`) : sendInApp(slowUser, big),
    );
    await fast.waitFor((frames) => frames.filter((frame) => frame.message).length === 20, 30_000);
    const fastDone = Date.now() - started;
    expect(
      await eventually(async () => edge.logs.some((line) => line.message === "slow consumer closed"), 30_000),
    ).toBe(true);
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    const { code, reason } = await slow.closed;
    expect(code).toBe(4008);
    expect(reason).toMatch(/slow consumer/);
    expect(fast.seqs()).toEqual(range(1, 20));
    expect(fastDone).toBeLessThan(30_000);
  }, 120_000);

  it("refuses what is not an authenticated user of an allowed origin, and what breaks the protocol", async () => {
    const user = randomUUID();
    const closeOf = async (options: Parameters<typeof connectInbox>[1]) => {
      const client = await connectInbox(edge.gatewayUrl, options);
      clients.push(client);
      return client.closed;
    };
    expect(await closeOf({})).toMatchObject({ code: 4001, reason: "no auth frame in time" });
    expect(await closeOf({ token: bearerToken(user, ["user"], -120) })).toMatchObject({
      code: 4001,
      reason: "the token has expired",
    });
    expect((await closeOf({ token: `${userToken(user).slice(0, -4)}AAAA` })).code).toBe(4001);
    expect(await closeOf({ token: bearerToken(user, ["admin"]) })).toMatchObject({ code: 4003 });
    expect((await closeOf({ token: bearerToken("not-a-uuid", ["user"]) })).code).toBe(4001);

    await expect(
      connectInbox(edge.gatewayUrl, { token: userToken(user), origin: "http://evil.test" }),
    ).rejects.toMatchObject({ status: 403 });
    await expect(
      connectInbox(edge.gatewayUrl, { protocols: [`bearer.${userToken(user)}`] }),
    ).rejects.toMatchObject({ status: 400 });

    const outOfOrder = await connectInbox(edge.gatewayUrl, {});
    clients.push(outOfOrder);
    outOfOrder.send({ ping: { nonce: "1" } });
    expect((await outOfOrder.closed).code).toBe(4010);

    // The token in Sec-WebSocket-Protocol, from the allowed origin.
    const viaHeader = await connectInbox(edge.gatewayUrl, {
      token: userToken(user),
      tokenInHeader: true,
      origin: APP_ORIGIN,
    });
    clients.push(viaHeader);
    await viaHeader.waitFor((frames) => frames.some((frame) => frame.caughtUp));
    expect(viaHeader.socket.protocol).toBe("notification.v1");
    viaHeader.socket.send("{not json");
    viaHeader.send({ read: { seqs: [] } });
    viaHeader.send({ ping: { nonce: "still-here" } });
    await viaHeader.waitFor((frames) => frames.some((frame) => frame.pong?.nonce === "still-here"));
    expect(viaHeader.frames.filter((frame) => frame.error).map((frame) => frame.error?.code)).toEqual([
      "invalid_frame",
      "invalid_frame",
    ]);
    viaHeader.send({ auth: { token: userToken(user) } });
    expect((await viaHeader.closed).code).toBe(4010);

    const oversized = await open(edge, user);
    oversized.send({ ping: { nonce: "x".repeat(5000) } });
    expect((await oversized.closed).code).toBe(1009);

    // At most GATEWAY_MAX_CONNECTIONS_PER_USER (3) at once.
    const many = [await open(edge, user), await open(edge, user), await open(edge, user)];
    expect(await closeOf({ token: userToken(user) })).toMatchObject({ code: 4009 });
    // Gone only once the gateway saw them close: until then they count against the limit.
    for (const client of many) client.close();
    await Promise.all(many.map((client) => client.closed));
    await new Promise((resolve) => setTimeout(resolve, 100));

    // A user's socket hears their own inbox only.
    const other = randomUUID();
    const mine = await open(edge, user);
    await sendInApp(other, "not yours");
    await sendInApp(user, "yours");
    await mine.waitFor((frames) => frames.some((frame) => frame.message));
    expect(mine.frames.filter((frame) => frame.message).map((frame) => frame.message?.body)).toEqual([
      "yours",
    ]);
  }, 90_000);

  it("records an ack as delivered and a read as opened, in the message log and as status events", async () => {
    const user = randomUUID();
    const phone = await open(hub, user);
    const laptop = await open(edge, user);
    const requestId = await sendInApp(user, "прочти меня");
    await phone.waitFor((frames) => frames.some((frame) => frame.message));
    // Acked at once: maybe before the dispatcher recorded the send, which the ack then waits for.
    phone.send({ ack: { seq: "1" } });
    expect(
      await eventually(async () => (await messagesOf(orm, requestId))[0]?.status === "delivered", 10_000),
    ).toBe(true);
    const [logged] = await messagesOf(orm, requestId);
    expect(logged?.provider_name).toBe("in-app");
    phone.send({ read: { seqs: ["1"] } });
    expect(
      await eventually(async () => (await messagesOf(orm, requestId))[0]?.status === "opened", 10_000),
    ).toBe(true);
    // The other device hears that it was read.
    await laptop.waitFor((frames) => frames.some((frame) => frame.changed));
    expect(laptop.frames.find((frame) => frame.changed)?.changed).toMatchObject({
      seqs: ["1"],
      change: "INBOX_CHANGE_READ",
    });

    const statuses = () =>
      events.records
        .filter((record) => record.key === logged?.id)
        .map((record) => (JSON.parse(record.value) as { data: { status: string } }).data.status);
    expect(await eventually(async () => statuses().includes("opened"), 15_000)).toBe(true);
    expect(statuses()).toEqual(["queued", "sent", "delivered", "opened"]);
  }, 60_000);

  it("cuts a connection that stops answering pings, and drains on SIGTERM: clients are told to reconnect elsewhere, then closed with 1012", async () => {
    const draining = await startServiceProcess({
      role: "gateway",
      env: { ...gatewayEnv, GATEWAY_HEARTBEAT_MS: "300" },
    });
    const silent = await connectInbox(draining.gatewayUrl, {
      token: userToken(randomUUID()),
      autoPong: false,
    });
    clients.push(silent);
    await silent.waitFor((frames) => frames.some((frame) => frame.caughtUp));
    const waited = Date.now();
    expect((await silent.closed).code).toBe(1006);
    // Cut at the second ping it left unanswered.
    expect(Date.now() - waited).toBeLessThan(2_000);

    const client = await open(draining, randomUUID());
    const stopped = draining.stop();
    const { code } = await client.closed;
    expect(code).toBe(1012);
    expect(client.frames.at(-1)?.reconnect?.reason).toMatch(/shutting down/);
    expect((await stopped).code).toBe(0);
  }, 60_000);
});
