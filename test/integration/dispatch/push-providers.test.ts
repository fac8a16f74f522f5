import { randomBytes, randomUUID } from "node:crypto";
import type { Agent } from "node:https";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fingerprint } from "../../../core/personal-data.ts";
import type { DeliveryOutcome, OutgoingMessage } from "../../../core/sending/index.ts";
import {
  ApnsProvider,
  type ApnsProviderOptions,
  FcmProvider,
  type FcmProviderOptions,
  routedHttpsAgent,
} from "../../../dispatch/index.ts";
import {
  type ApnsPeer,
  type FcmPeer,
  type ReceivedApnsPush,
  type ReceivedFcmMessage,
  startFcmPeer,
} from "../../../scripts/provider-peers/index.ts";
import { pemKeyPair } from "../../support/key-pairs.ts";
import {
  fcmPeerOptions,
  type PushPeers,
  pushAccounts,
  resetPeersBeforeEach,
  startPushPeers,
} from "../../support/provider-peers.ts";

// Both push providers on their real SDKs against local peers that speak FCM's and APNs'
// protocols (scripts/provider-peers): firebase-admin is routed to the FCM peer by its HTTP
// agent, its hosts unchanged; node-apn is given the APNs peer's address and certificate.
const accounts = pushAccounts("notify-push-test");
const { serviceAccount, apnsKey, projectId, clientEmail, apple } = accounts;

let peers: PushPeers;
let fcmPeer: FcmPeer;
let apnsPeer: ApnsPeer;
let agent: Agent;
const extraPeers: { close(): Promise<void> }[] = [];
const providers: { close(): Promise<void> }[] = [];
let made = 0;

beforeAll(async () => {
  peers = await startPushPeers(accounts);
  ({ fcm: fcmPeer, apns: apnsPeer, agent } = peers);
});
afterAll(async () => {
  await Promise.all([peers.close(), ...extraPeers.map((peer) => peer.close())]);
});
resetPeersBeforeEach(() => [fcmPeer, apnsPeer]);
afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.close()));
});

function fcm(overrides: Partial<FcmProviderOptions> = {}): FcmProvider {
  // Each provider names a firebase-admin app of its own: names are unique while it is open.
  made += 1;
  const provider = new FcmProvider({
    name: `push_fcm-test-${made}`,
    projectId,
    clientEmail,
    privateKey: serviceAccount.privateKey,
    httpAgent: agent,
    timeoutMs: 5_000,
    ...overrides,
  });
  providers.push(provider);
  return provider;
}

function apns(overrides: Partial<ApnsProviderOptions> = {}, to: ApnsPeer = apnsPeer): ApnsProvider {
  const provider = new ApnsProvider({
    name: "push_apns-test",
    key: apnsKey.privateKey,
    ...apple,
    production: false,
    address: to.host,
    port: to.port,
    ca: to.ca,
    timeoutMs: 5_000,
    ...overrides,
  });
  providers.push(provider);
  return provider;
}

/** A registration token as FCM gives them: an instance id, ":APA91b", and a long signed part. */
const fcmToken = (): string =>
  `${randomBytes(16).toString("base64url")}:APA91b${randomBytes(105).toString("base64url")}`;
const apnsToken = (): string => randomBytes(32).toString("hex");

function push(
  destination: OutgoingMessage["destination"],
  overrides: Partial<OutgoingMessage> = {},
): OutgoingMessage {
  return {
    messageId: randomUUID(),
    destination,
    subject: "Заказ A-1 оплачен",
    body: "Спасибо за покупку! Курьер привезёт заказ завтра.",
    bodyHtml: "",
    priority: "high",
    expiresAt: new Date(Date.now() + 3_600_000),
    push: {
      data: { orderId: "A-1", screen: "orders" },
      badge: 3,
      sound: "default",
      collapseKey: "order-A-1",
      threadId: "orders",
    },
    ...overrides,
  };
}

const toFcm = (token = fcmToken()) => ({ channel: "push_fcm" as const, deviceToken: token });
const toApns = (token = apnsToken()) => ({ channel: "push_apns" as const, deviceToken: token });

function reasonOf(outcome: DeliveryOutcome): string {
  return outcome.status === "failed" ? outcome.reason : "";
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

describe("FcmProvider", () => {
  it("sends title, body, data, badge, sound, collapse key, thread, TTL and priority, with a token the peer issued for our signed assertion", async () => {
    const message = push(toFcm());
    const provider = fcm();
    const tokensBefore = fcmPeer.accessTokens().length;
    const outcome = await provider.send(message);

    const [received] = fcmPeer.messages();
    expect(fcmPeer.messages()).toHaveLength(1);
    expect(outcome).toEqual({ status: "sent", providerMessageId: received?.name });
    expect(received?.name).toMatch(new RegExp(`^projects/${projectId}/messages/0:\\d+%[0-9a-f]{16}$`));
    // The SDK asked for FCM's own host and was routed: nothing about it knows of the peer.
    expect(received?.host).toBe("fcm.googleapis.com");
    expect(fcmPeer.accessTokens().slice(tokensBefore)).toEqual([received?.accessToken]);
    const expiresAt = message.expiresAt?.getTime() ?? 0;
    expect(received?.message).toEqual({
      token: message.destination.channel === "push_fcm" && message.destination.deviceToken,
      notification: { title: "Заказ A-1 оплачен", body: "Спасибо за покупку! Курьер привезёт заказ завтра." },
      data: { orderId: "A-1", screen: "orders" },
      android: {
        priority: "high",
        ttl: expect.stringMatching(/^\d+s$/),
        collapse_key: "order-A-1",
        notification: { tag: "orders", sound: "default", notification_count: 3 },
      },
      apns: {
        headers: {
          "apns-priority": "10",
          "apns-expiration": String(Math.floor(expiresAt / 1000)),
          "apns-collapse-id": "order-A-1",
        },
        payload: { aps: { badge: 3, sound: "default", "thread-id": "orders" } },
      },
    });
    const { ttl } = (received as ReceivedFcmMessage).message.android as { ttl: string };
    const ttlSeconds = Number(ttl.slice(0, -1));
    expect(ttlSeconds).toBeGreaterThanOrEqual(3590);
    expect(ttlSeconds).toBeLessThanOrEqual(3600);

    // firebase-admin keeps its access token for what is left of its hour.
    expect((await provider.send(push(toFcm()))).status).toBe("sent");
    expect(fcmPeer.accessTokens()).toHaveLength(tokensBefore + 1);
    expect(fcmPeer.messages()[1]?.accessToken).toBe(received?.accessToken);
  });

  it("sends normal and low priority as normal and 5, and nothing of a TTL or push options it was not given", async () => {
    for (const priority of ["normal", "low"] as const) {
      const message = push(toFcm(), { priority, expiresAt: undefined, push: undefined });
      expect((await fcm().send(message)).status).toBe("sent");
      expect(fcmPeer.messages().at(-1)?.message).toEqual({
        token: message.destination.channel === "push_fcm" && message.destination.deviceToken,
        notification: { title: message.subject, body: message.body },
        android: { priority: "normal" },
        apns: { headers: { "apns-priority": "5" } },
      });
    }
  });

  it("sends a message already past its TTL as now or never: ttl 0s, apns-expiration 0", async () => {
    expect((await fcm().send(push(toFcm(), { expiresAt: new Date(Date.now() - 1000) }))).status).toBe("sent");
    const sent = fcmPeer.messages()[0]?.message as {
      android: { ttl: string };
      apns: { headers: Record<string, string> };
    };
    expect(sent.android.ttl).toBe("0s");
    expect(sent.apns.headers["apns-expiration"]).toBe("0");
  });

  it("reports a token FCM no longer knows as gone for good, without the token in the reason", async () => {
    const token = fcmToken();
    fcmPeer.markGone(token);
    const outcome = await fcm().send(push(toFcm(token)));
    expect(outcome).toEqual({
      status: "failed",
      reason: "messaging/registration-token-not-registered (404): Requested entity was not found.",
      retryable: false,
      destinationGone: true,
    });
    expect(fcmPeer.messages()).toEqual([]);
  });

  it("reports a malformed token as gone, and a message FCM refuses for another field as failed for good alone", async () => {
    const malformed = await fcm().send(push(toFcm("not-a-registration-token")));
    expect(malformed).toEqual({
      status: "failed",
      reason:
        "messaging/invalid-argument (400): The registration token is not a valid FCM registration token",
      retryable: false,
      destinationGone: true,
    });
    const reserved = await fcm().send(push(toFcm(), { push: { data: { from: "shop" } } }));
    expect(reserved).toEqual({
      status: "failed",
      reason: "messaging/invalid-argument (400): Invalid data payload key: from",
      retryable: false,
    });
    expect(fcmPeer.messages()).toEqual([]);
  });

  it("fails retryable on 500 at once, and on 503 after firebase-admin's own retries", async () => {
    fcmPeer.setFault({ mode: "5xx", status: 500 });
    let before = fcmPeer.sendRequests();
    expect(await fcm().send(push(toFcm()))).toEqual({
      status: "failed",
      reason: "messaging/internal-error (500): Internal error encountered.",
      retryable: true,
    });
    expect(fcmPeer.sendRequests() - before).toBe(1);

    // firebase-admin tries 503 five times, 0, 1, 2 and 4 s apart.
    fcmPeer.setFault({ mode: "5xx", status: 503, times: 5 });
    before = fcmPeer.sendRequests();
    const { value: unavailable, ms } = await timed(fcm({ timeoutMs: 20_000 }).send(push(toFcm())));
    expect(unavailable).toEqual({
      status: "failed",
      reason: "messaging/server-unavailable (503): The service is currently unavailable.",
      retryable: true,
    });
    expect(fcmPeer.sendRequests() - before).toBe(5);
    expect(ms).toBeGreaterThanOrEqual(6_900);
    expect(fcmPeer.messages()).toEqual([]);
  });

  it("is sent when a 503 or a dropped connection happens once: firebase-admin tries again", async () => {
    for (const fault of [
      { mode: "5xx", status: 503, times: 1 },
      { mode: "drop", times: 1 },
    ] as const) {
      fcmPeer.setFault(fault);
      const before = fcmPeer.sendRequests();
      expect((await fcm().send(push(toFcm()))).status).toBe("sent");
      expect(fcmPeer.sendRequests() - before).toBe(2);
    }
    expect(fcmPeer.messages()).toHaveLength(2);
  });

  it("fails retryable when every connection is dropped", async () => {
    fcmPeer.setFault({ mode: "drop" });
    const outcome = await fcm({ timeoutMs: 20_000 }).send(push(toFcm()));
    expect(outcome).toMatchObject({ status: "failed", retryable: true });
    expect(reasonOf(outcome)).toMatch(
      /^app\/network-error: Error while making request: socket hang up\. Error code: ECONNRESET$/,
    );
  });

  it("fails retryable on 429 and waits as long as Retry-After says", async () => {
    fcmPeer.setFault({ mode: "rate-limit", retryAfterSeconds: 42 });
    expect(await fcm().send(push(toFcm()))).toEqual({
      status: "failed",
      // FCM quotes its quota's names, and quoted values are hidden as a driver's would be.
      reason: `messaging/message-rate-exceeded (429): Quota exceeded for quota metric '${fingerprint("Send requests")}' and limit '${fingerprint("Send requests per minute")}'.`,
      retryable: true,
      retryAfterMs: 42_000,
    });
  });

  it("waits for a slow FCM, and gives up on a silent one after timeoutMs", async () => {
    fcmPeer.setFault({ mode: "slow", delayMs: 400 });
    const slow = await timed(fcm().send(push(toFcm())));
    expect(slow.value.status).toBe("sent");
    // The token exchange and the send both waited.
    expect(slow.ms).toBeGreaterThanOrEqual(790);

    fcmPeer.setFault({ mode: "hang" });
    const silent = await timed(fcm({ timeoutMs: 800 }).send(push(toFcm())));
    expect(silent.value).toEqual({
      status: "failed",
      reason: "FCM gave no answer within 800 ms",
      retryable: true,
    });
    expect(silent.ms).toBeGreaterThanOrEqual(790);
    expect(silent.ms).toBeLessThan(2_000);
  });

  it("fails retryable while FCM takes its access token for expired, and a fresh app gets a new one", async () => {
    const provider = fcm();
    expect((await provider.send(push(toFcm()))).status).toBe("sent");
    const tokensBefore = fcmPeer.accessTokens().length;
    fcmPeer.setFault({ mode: "expired-token" });
    const refused = await provider.send(push(toFcm()));
    expect(refused).toMatchObject({ status: "failed", retryable: true });
    expect(reasonOf(refused)).toMatch(
      /^messaging\/third-party-auth-error \(401\): Request had invalid authentication credentials\./,
    );
    // firebase-admin is not told by a 401 that its token went bad: it renews it by the clock only.
    expect(fcmPeer.accessTokens()).toHaveLength(tokensBefore);

    const fresh = fcm();
    expect((await fresh.send(push(toFcm()))).status).toBe("sent");
    expect(fcmPeer.accessTokens()).toHaveLength(tokensBefore + 1);
    expect(fcmPeer.messages().at(-1)?.accessToken).toBe(fcmPeer.accessTokens().at(-1));
  });

  it("renews an access token about to expire before it sends", async () => {
    // firebase-admin renews within five minutes of the end: a one-minute token lasts one send.
    const shortLived = await startFcmPeer(fcmPeerOptions(accounts, { accessTokenLifetimeSeconds: 60 }));
    extraPeers.push(shortLived);
    const routed = routedHttpsAgent({ host: shortLived.host, port: shortLived.port, ca: shortLived.ca });
    try {
      const provider = fcm({ httpAgent: routed });
      expect((await provider.send(push(toFcm()))).status).toBe("sent");
      expect((await provider.send(push(toFcm()))).status).toBe("sent");
      const tokens = shortLived.accessTokens();
      expect(tokens).toHaveLength(2);
      expect(shortLived.messages().map((received: ReceivedFcmMessage) => received.accessToken)).toEqual(
        tokens,
      );
    } finally {
      await providers.pop()?.close();
      routed.destroy();
    }
  });

  it("fails retryable when the token exchange is refused: the key revoked, or not the account's", async () => {
    const tokensBefore = fcmPeer.accessTokens().length;
    fcmPeer.setFault({ mode: "invalid-token" });
    expect(await fcm().send(push(toFcm()))).toEqual({
      status: "failed",
      reason:
        "app/invalid-credential: the token endpoint answered 400: invalid_grant: Invalid JWT Signature.",
      retryable: true,
    });
    fcmPeer.setFault({ mode: "none" });
    const stranger = pemKeyPair("rsa");
    expect(await fcm({ privateKey: stranger.privateKey }).send(push(toFcm()))).toEqual({
      status: "failed",
      reason:
        "app/invalid-credential: the token endpoint answered 400: invalid_grant: Invalid JWT Signature.",
      retryable: true,
    });
    expect(fcmPeer.accessTokens()).toHaveLength(tokensBefore);
    expect(fcmPeer.messages()).toEqual([]);
  });

  it("refuses to trust a peer whose certificate it was not given", async () => {
    const tokensBefore = fcmPeer.accessTokens().length;
    const distrusting = routedHttpsAgent({ host: fcmPeer.host, port: fcmPeer.port, ca: apnsPeer.ca });
    try {
      const outcome = await fcm({ httpAgent: distrusting }).send(push(toFcm()));
      expect(outcome).toMatchObject({ status: "failed", retryable: true });
      expect(reasonOf(outcome)).toMatch(/self-signed certificate|unable to verify/i);
      expect(fcmPeer.accessTokens()).toHaveLength(tokensBefore);
    } finally {
      await providers.pop()?.close();
      distrusting.destroy();
    }
  });

  it("lets a send in flight finish when it closes, and takes no more", async () => {
    fcmPeer.setFault({ mode: "slow", delayMs: 200 });
    const provider = fcm();
    const sending = provider.send(push(toFcm()));
    await provider.close();
    expect((await sending).status).toBe("sent");
    expect(await provider.send(push(toFcm()))).toEqual({
      status: "failed",
      reason: `${provider.name} is closing`,
      retryable: true,
    });
    providers.splice(providers.indexOf(provider), 1);
  });

  it("checks its configuration when it is made, and what it is handed when it sends", async () => {
    const base: FcmProviderOptions = {
      name: "push_fcm-config",
      projectId,
      clientEmail,
      privateKey: serviceAccount.privateKey,
    };
    expect(() => new FcmProvider({ ...base, projectId: "Not A Project" })).toThrow(/project id/);
    expect(() => new FcmProvider({ ...base, clientEmail: "sender" })).toThrow(/client email/);
    expect(() => new FcmProvider({ ...base, privateKey: "nope" })).toThrow(/not a PEM key/);
    expect(() => new FcmProvider({ ...base, privateKey: apnsKey.privateKey })).toThrow(/must be RSA/);
    expect(() => new FcmProvider({ ...base, timeoutMs: 0 })).toThrow(/timeoutMs/);
    await expect(fcm().send(push(toApns()))).rejects.toThrow(/delivers push_fcm, not push_apns/);
  });
});

describe("ApnsProvider", () => {
  it("sends alert, badge, sound, thread, collapse id, expiration, priority and the app's keys, as the apns-id we gave", async () => {
    const message = push(toApns());
    const outcome = await apns().send(message);

    const [received] = apnsPeer.messages();
    expect(apnsPeer.messages()).toHaveLength(1);
    expect(outcome).toEqual({ status: "sent", providerMessageId: message.messageId });
    expect(received?.apnsId).toBe(message.messageId);
    expect(received?.deviceToken).toBe(
      message.destination.channel === "push_apns" && message.destination.deviceToken,
    );
    expect(received?.headers).toEqual({
      "apns-id": message.messageId,
      "apns-topic": apple.topic,
      "apns-push-type": "alert",
      "apns-priority": "10",
      "apns-expiration": String(Math.floor((message.expiresAt?.getTime() ?? 0) / 1000)),
      "apns-collapse-id": "order-A-1",
    });
    expect(received?.payload).toEqual({
      orderId: "A-1",
      screen: "orders",
      aps: {
        alert: { title: "Заказ A-1 оплачен", body: "Спасибо за покупку! Курьер привезёт заказ завтра." },
        badge: 3,
        sound: "default",
        "thread-id": "orders",
      },
    });
    expect(received?.providerToken).toMatchObject({ kid: apple.keyId, iss: apple.teamId });
    expect(Math.abs((received?.providerToken.iat ?? 0) - Date.now() / 1000)).toBeLessThan(60);
  });

  it("sends normal and low priority as 5, without an expiration or push options it was not given", async () => {
    const provider = apns();
    for (const priority of ["normal", "low"] as const) {
      const message = push(toApns(), { priority, expiresAt: undefined, push: undefined });
      expect((await provider.send(message)).status).toBe("sent");
      const received = apnsPeer.messages().at(-1) as ReceivedApnsPush;
      expect(received.headers).toEqual({
        "apns-id": message.messageId,
        "apns-topic": apple.topic,
        "apns-push-type": "alert",
        "apns-priority": "5",
      });
      expect(received.payload).toEqual({ aps: { alert: { title: message.subject, body: message.body } } });
    }
  });

  it("sends a push already past its expiration with 0: one attempt, nothing stored", async () => {
    expect((await apns().send(push(toApns(), { expiresAt: new Date(Date.now() - 1000) }))).status).toBe(
      "sent",
    );
    expect(apnsPeer.messages()[0]?.headers["apns-expiration"]).toBe("0");
  });

  it("reports 410 Unregistered and 400 BadDeviceToken as gone for good", async () => {
    const token = apnsToken();
    apnsPeer.markGone(token, new Date("2026-03-01T08:00:00.000Z"));
    const provider = apns();
    expect(await provider.send(push(toApns(token)))).toEqual({
      status: "failed",
      reason: "410 Unregistered since 2026-03-01T08:00:00.000Z",
      retryable: false,
      destinationGone: true,
    });
    expect(await provider.send(push(toApns("zz-not-hex")))).toEqual({
      status: "failed",
      reason: "400 BadDeviceToken",
      retryable: false,
      destinationGone: true,
    });
    expect(apnsPeer.messages()).toEqual([]);
  });

  it("fails for good what APNs refuses in the push itself, the token kept", async () => {
    const provider = apns();
    expect(await provider.send(push(toApns(), { push: { collapseKey: "x".repeat(65) } }))).toEqual({
      status: "failed",
      reason: "400 BadCollapseId",
      retryable: false,
    });
    // node:http2 would write it as Latin-1: APNs would get another key, 33 bytes long.
    const before = apnsPeer.requests();
    expect(await provider.send(push(toApns(), { push: { collapseKey: "заказ-A-1" } }))).toEqual({
      status: "failed",
      reason: "the collapse key is not printable ASCII, as apns-collapse-id must be",
      retryable: false,
    });
    expect(apnsPeer.requests()).toBe(before);
    expect(await provider.send(push(toApns(), { body: "Длинный текст. ".repeat(300) }))).toEqual({
      status: "failed",
      reason: "413 PayloadTooLarge",
      retryable: false,
    });
    expect(await apns({ topic: "ru.other.app" }).send(push(toApns()))).toEqual({
      status: "failed",
      reason: "400 TopicDisallowed",
      retryable: false,
    });
    expect(apnsPeer.messages()).toEqual([]);
  });

  it("fails retryable on 500, 503 and 429 after node-apn's own retries, and is sent when one of them passes", async () => {
    const provider = apns();
    const cases = [
      [{ mode: "5xx", status: 500 }, "500 Error 500, stream ended unexpectedly"],
      [{ mode: "5xx", status: 503 }, "503 ServiceUnavailable"],
      [{ mode: "rate-limit" }, "429 TooManyRequests"],
    ] as const;
    for (const [fault, reason] of cases) {
      apnsPeer.setFault(fault);
      const before = apnsPeer.requests();
      expect(await provider.send(push(toApns()))).toEqual({ status: "failed", reason, retryable: true });
      // The first try and node-apn's three more.
      expect(apnsPeer.requests() - before).toBe(4);
    }
    apnsPeer.setFault({ mode: "5xx", status: 503, times: 1 });
    const before = apnsPeer.requests();
    expect((await provider.send(push(toApns()))).status).toBe("sent");
    expect(apnsPeer.requests() - before).toBe(2);
  });

  it("fails retryable when the connection is cut, and is sent on a new one next time", async () => {
    const provider = apns();
    apnsPeer.setFault({ mode: "drop", times: 1 });
    const dropped = await provider.send(push(toApns()));
    expect(dropped).toMatchObject({ status: "failed", retryable: true });
    expect(reasonOf(dropped)).toMatch(/^(stream ended unexpectedly|apn write (aborted|failed))/);
    expect((await provider.send(push(toApns()))).status).toBe("sent");
  });

  it("waits for a slow APNs, and gives up on a silent one after timeoutMs", async () => {
    apnsPeer.setFault({ mode: "slow", delayMs: 300 });
    const slow = await timed(apns().send(push(toApns())));
    expect(slow.value.status).toBe("sent");
    expect(slow.ms).toBeGreaterThanOrEqual(290);

    apnsPeer.setFault({ mode: "hang" });
    const silent = await timed(apns({ timeoutMs: 600 }).send(push(toApns())));
    expect(silent.value).toEqual({ status: "failed", reason: "apn write timeout", retryable: true });
    expect(silent.ms).toBeGreaterThanOrEqual(590);
    expect(silent.ms).toBeLessThan(2_000);
  });

  it("makes a new provider token when APNs answers ExpiredProviderToken, and is sent with it", async () => {
    const provider = apns();
    expect((await provider.send(push(toApns()))).status).toBe("sent");
    const tokensBefore = apnsPeer.providerTokens();
    apnsPeer.setFault({ mode: "expired-token" });
    const before = apnsPeer.requests();
    expect((await provider.send(push(toApns()))).status).toBe("sent");
    // Refused with the old token, taken with a new one.
    expect(apnsPeer.requests() - before).toBe(2);
    expect(apnsPeer.providerTokens()).toHaveLength(tokensBefore.length + 1);
    expect(apnsPeer.messages()).toHaveLength(2);
  });

  it("fails retryable on 403 InvalidProviderToken: a revoked key, or a key not the team's", async () => {
    apnsPeer.setFault({ mode: "invalid-token" });
    const before = apnsPeer.requests();
    expect(await apns().send(push(toApns()))).toEqual({
      status: "failed",
      reason: "403 InvalidProviderToken",
      retryable: true,
    });
    expect(apnsPeer.requests() - before).toBe(1);
    apnsPeer.setFault({ mode: "none" });
    const stranger = pemKeyPair("ec");
    expect(await apns({ key: stranger.privateKey }).send(push(toApns()))).toEqual({
      status: "failed",
      reason: "403 InvalidProviderToken",
      retryable: true,
    });
    expect(apnsPeer.messages()).toEqual([]);
  });

  it("refuses to trust a peer whose certificate it was not given", async () => {
    const before = apnsPeer.requests();
    const outcome = await apns({ ca: fcmPeer.ca }).send(push(toApns()));
    expect(outcome).toMatchObject({ status: "failed", retryable: true });
    expect(reasonOf(outcome)).toMatch(/self-signed certificate|unable to verify/i);
    expect(apnsPeer.requests()).toBe(before);
    expect(apnsPeer.messages()).toEqual([]);
  });

  it("lets a push in flight finish when it closes, and takes no more", async () => {
    apnsPeer.setFault({ mode: "slow", delayMs: 200 });
    const provider = apns();
    const sending = provider.send(push(toApns()));
    await provider.close();
    expect((await sending).status).toBe("sent");
    expect(await provider.send(push(toApns()))).toEqual({
      status: "failed",
      reason: "push_apns-test is closing",
      retryable: true,
    });
    providers.splice(providers.indexOf(provider), 1);
  });

  it("checks its configuration when it is made, and what it is handed when it sends", async () => {
    const base: ApnsProviderOptions = {
      name: "push_apns-config",
      key: apnsKey.privateKey,
      ...apple,
      production: false,
    };
    expect(() => new ApnsProvider({ ...base, key: serviceAccount.privateKey })).toThrow(/P-256/);
    expect(() => new ApnsProvider({ ...base, keyId: "short" })).toThrow(/key id/);
    expect(() => new ApnsProvider({ ...base, teamId: "team" })).toThrow(/team id/);
    expect(() => new ApnsProvider({ ...base, topic: "" })).toThrow(/topic/);
    expect(() => new ApnsProvider({ ...base, port: 70_000 })).toThrow(/port/);
    const provider = apns();
    await expect(provider.send(push(toFcm()))).rejects.toThrow(/delivers push_apns, not push_fcm/);
    await expect(provider.send(push(toApns(), { messageId: "not-a-uuid" }))).rejects.toThrow(/apns-id/);
  });
});
