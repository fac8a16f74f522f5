import { createPrivateKey, type KeyObject, randomBytes, randomUUID, sign } from "node:crypto";
import { connect, constants } from "node:http2";
import { type Agent, request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApnsPeer, FcmPeer } from "../../../scripts/provider-peers/index.ts";
import { pemKeyPair } from "../../support/key-pairs.ts";
import {
  expectNotFaultsRefused,
  type PushPeers,
  peerPageHtml,
  pushAccounts,
  resetPeersBeforeEach,
  startPushPeers,
} from "../../support/provider-peers.ts";

// The push peers' own surface: that they refuse what FCM, Google's token endpoint and APNs
// refuse, so that what they accept from the providers means something, and their pages.
const accounts = pushAccounts("notify-peer-test");
const { serviceAccount, apnsKey, projectId, clientEmail, apple } = accounts;
const TOKEN_URL = "https://oauth2.googleapis.com/token";

let peers: PushPeers;
let fcm: FcmPeer;
let apns: ApnsPeer;
let agent: Agent;

beforeAll(async () => {
  peers = await startPushPeers(accounts);
  ({ fcm, apns, agent } = peers);
});
afterAll(() => peers.close());
resetPeersBeforeEach(() => [fcm, apns]);

function jwt(header: object, claims: object, key: KeyObject, alg: "RS256" | "ES256"): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${part(header)}.${part(claims)}`;
  const signature =
    alg === "RS256"
      ? sign("sha256", Buffer.from(input), key)
      : sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

const now = () => Math.floor(Date.now() / 1000);
const accountKey = createPrivateKey(serviceAccount.privateKey);
const teamKey = createPrivateKey(apnsKey.privateKey);

function assertion(claims: Record<string, unknown> = {}): string {
  return jwt(
    { alg: "RS256", typ: "JWT" },
    {
      iss: clientEmail,
      scope: "https://www.googleapis.com/auth/firebase.messaging",
      aud: TOKEN_URL,
      iat: now(),
      exp: now() + 3600,
      ...claims,
    },
    accountKey,
    "RS256",
  );
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One HTTPS request to a Google host, routed to the FCM peer as firebase-admin is. */
function google(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  return new Promise<Answer>((resolve, reject) => {
    const outgoing = request(
      url,
      { method: init.method ?? "POST", agent, headers: init.headers },
      (incoming) => {
        let text = "";
        incoming.setEncoding("utf8");
        incoming.on("data", (chunk: string) => {
          text += chunk;
        });
        incoming.on("end", () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: JSON.parse(text || "{}"),
          }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end(init.body);
  });
}

function exchange(assertionText: string, grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer") {
  return google(TOKEN_URL, {
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: grantType, assertion: assertionText }).toString(),
  });
}

async function accessToken(): Promise<string> {
  const answer = await exchange(assertion());
  return String(answer.body.access_token);
}

const registrationToken = () =>
  `${randomBytes(16).toString("base64url")}:APA91b${randomBytes(105).toString("base64url")}`;

function sendFcm(body: unknown, bearer?: string, project = projectId) {
  return google(`https://fcm.googleapis.com/v1/projects/${project}/messages:send`, {
    headers: { "content-type": "application/json", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
}

/** One HTTP/2 request to the APNs peer; the provider token and the usual headers unless told otherwise. */
async function sendApns(
  headers: Record<string, string | undefined> = {},
  body = JSON.stringify({ aps: { alert: { title: "Заказ", body: "Оплачен" } } }),
  path = `/3/device/${randomBytes(32).toString("hex")}`,
): Promise<Answer> {
  const session = connect(`https://${apns.host}:${apns.port}`, { ca: apns.ca });
  try {
    const defined = Object.fromEntries(
      Object.entries({
        [constants.HTTP2_HEADER_METHOD]: "POST",
        [constants.HTTP2_HEADER_PATH]: path,
        authorization: `bearer ${jwt({ alg: "ES256", kid: apple.keyId }, { iss: apple.teamId, iat: now() }, teamKey, "ES256")}`,
        "apns-topic": apple.topic,
        "apns-push-type": "alert",
        ...headers,
      }).filter(([, value]) => value !== undefined),
    );
    const stream = session.request(defined);
    stream.end(body);
    return await new Promise<Answer>((resolve, reject) => {
      let status = 0;
      let responseHeaders: Answer["headers"] = {};
      let text = "";
      stream.on("response", (received) => {
        status = Number(received[constants.HTTP2_HEADER_STATUS]);
        responseHeaders = received;
      });
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        text += chunk;
      });
      stream.on("end", () => resolve({ status, headers: responseHeaders, body: JSON.parse(text || "{}") }));
      stream.on("error", reject);
    });
  } finally {
    session.close();
  }
}

describe("FCM peer", () => {
  it("issues an access token for an assertion signed by the account's key, and for nothing else", async () => {
    const granted = await exchange(assertion());
    expect(granted.status).toBe(200);
    expect(granted.body).toEqual({
      access_token: expect.stringMatching(/^ya29\./),
      expires_in: 3599,
      token_type: "Bearer",
    });

    const refusals: [string, string, string][] = [
      [
        assertion({ aud: "https://www.googleapis.com/oauth2/v4/token" }),
        "invalid_grant",
        "Failed audience check",
      ],
      [assertion({ iat: now() - 7200, exp: now() - 3600 }), "invalid_grant", "short-lived token"],
      [assertion({ exp: now() + 7200 }), "invalid_grant", "short-lived token"],
      [assertion({ scope: "https://www.googleapis.com/auth/userinfo.email" }), "invalid_scope", "scope"],
      [
        assertion({ iss: `other@${projectId}.iam.gserviceaccount.com` }),
        "invalid_grant",
        "account not found",
      ],
      [`${assertion().split(".").slice(0, 2).join(".")}.AAAA`, "invalid_grant", "Invalid JWT Signature"],
    ];
    const stranger = createPrivateKey(pemKeyPair("rsa").privateKey);
    const foreign = jwt(
      { alg: "RS256" },
      {
        iss: clientEmail,
        scope: "https://www.googleapis.com/auth/cloud-platform",
        aud: TOKEN_URL,
        iat: now(),
        exp: now() + 600,
      },
      stranger,
      "RS256",
    );
    refusals.push([foreign, "invalid_grant", "Invalid JWT Signature"]);
    for (const [text, error, description] of refusals) {
      const answer = await exchange(text);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe(error);
      expect(String(answer.body.error_description)).toContain(description);
    }
    expect((await exchange(assertion(), "client_credentials")).body.error).toBe("unsupported_grant_type");
    expect(fcm.accessTokens()).toEqual([granted.body.access_token]);
  });

  it("sends only with a token it issued, for its project, on FCM's host", async () => {
    const message = { message: { token: registrationToken(), notification: { title: "t" } } };
    const missing = await sendFcm(message);
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ error: { code: 401, status: "UNAUTHENTICATED" } });
    expect((await sendFcm(message, "ya29.made-up")).status).toBe(401);
    const bearer = await accessToken();
    expect((await sendFcm(message, bearer, "someone-elses")).body).toMatchObject({
      error: { code: 403, status: "PERMISSION_DENIED" },
    });
    const wrongHost = await google(`https://oauth2.googleapis.com/v1/projects/${projectId}/messages:send`, {
      headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
      body: JSON.stringify(message),
    });
    expect(wrongHost.status).toBe(404);
    expect(fcm.messages()).toEqual([]);

    const sent = await sendFcm(message, bearer);
    expect(sent.status).toBe(200);
    expect(sent.body.name).toBe(fcm.messages()[0]?.name);
    expect(fcm.messages()[0]).toMatchObject({
      host: "fcm.googleapis.com",
      accessToken: bearer,
      message: message.message,
    });
  });

  it("refuses a body FCM would refuse, naming the field", async () => {
    const bearer = await accessToken();
    const token = registrationToken();
    const cases: [unknown, string | undefined, string][] = [
      [
        { message: { token, android: { ttl: "3600" } } },
        "message.android.ttl",
        "Invalid value at 'message.android.ttl'",
      ],
      [{ message: { token, android: { ttl: "2419201s" } } }, "message.android.ttl", "four weeks"],
      [{ message: { token, android: { priority: "urgent" } } }, "message.android.priority", "Invalid value"],
      [{ message: { token, data: { count: 1 } } }, 'message.data["count"]', "Invalid value"],
      [{ message: { token, data: { google_campaign: "x" } } }, "message.data", "Invalid data payload key"],
      [
        { message: { token, android: { notification: { notification_count: -1 } } } },
        "message.android.notification.notification_count",
        "int32",
      ],
      [
        { message: { token, apns: { headers: { "apns-priority": "7" } } } },
        "message.apns.headers",
        "apns-priority",
      ],
      [
        { message: { token, apns: { payload: { aps: { badge: "3" } } } } },
        "message.apns.payload.aps.badge",
        "int32",
      ],
      [{ message: { token, android: { prio: "high" } } }, "message.android.prio", 'Unknown name "prio"'],
      [{ message: { topic: "news" } }, "message.topic", "registration tokens only"],
      [{ message: { token, topic: "news" } }, undefined, "Exactly one of token, topic or condition"],
      [{ message: { token: "short" } }, undefined, "not a valid FCM registration token"],
    ];
    for (const [body, field, words] of cases) {
      const answer = await sendFcm(body, bearer);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      const error = answer.body.error as {
        status: string;
        message: string;
        details?: { fieldViolations?: { field: string }[] }[];
      };
      expect(error.status).toBe("INVALID_ARGUMENT");
      expect(error.message).toContain(words);
      const violations = (error.details ?? []).flatMap((detail) => detail.fieldViolations ?? []);
      expect(violations.map((violation) => violation.field)).toEqual(field === undefined ? [] : [field]);
    }
    expect(fcm.messages()).toEqual([]);
  });

  it("checks a dry run in full and keeps nothing of it", async () => {
    const bearer = await accessToken();
    const answer = await sendFcm({ message: { token: registrationToken() }, validate_only: true }, bearer);
    expect(answer.body).toEqual({ name: `projects/${projectId}/messages/fake_message_id` });
    expect(fcm.messages()).toEqual([]);
  });

  it("takes faults and dead tokens over its page, and shows what arrived escaped", async () => {
    const page = (path: string, init?: RequestInit) => fetch(`${fcm.httpUrl}${path}`, init);
    const post = (path: string, body: unknown) =>
      page(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });

    await expectNotFaultsRefused(`${fcm.httpUrl}/fault`);
    const set = await post("/fault", { mode: "rate-limit", retryAfterSeconds: 7, times: 1 });
    expect(await set.json()).toEqual({ mode: "rate-limit", retryAfterSeconds: 7, times: 1 });
    const bearer = await accessToken();
    const token = registrationToken();
    const limited = await sendFcm({ message: { token } }, bearer);
    expect(limited.status).toBe(429);
    expect(limited.headers["retry-after"]).toBe("7");
    expect(fcm.fault()).toEqual({ mode: "none" });

    expect((await post("/gone", { token })).status).toBe(204);
    expect((await sendFcm({ message: { token } }, bearer)).body).toMatchObject({
      error: { code: 404, status: "NOT_FOUND", details: [{ errorCode: "UNREGISTERED" }] },
    });

    await sendFcm(
      { message: { token: registrationToken(), notification: { title: "<script>alert('x')</script>" } } },
      bearer,
    );
    const html = await peerPageHtml(`${fcm.httpUrl}/`);
    expect(html).toContain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    expect(html).not.toContain("<script>");
    expect(await (await page("/messages")).json()).toHaveLength(1);
    expect((await page("/messages", { method: "DELETE" })).status).toBe(204);
    expect(fcm.messages()).toEqual([]);
  });
});

describe("APNs peer", () => {
  it("takes a push with a fresh provider token of the team's key, and answers with its apns-id", async () => {
    const apnsId = randomUUID();
    const answer = await sendApns({ "apns-id": apnsId, "apns-priority": "10", "apns-expiration": "0" });
    expect(answer.status).toBe(200);
    expect(answer.headers["apns-id"]).toBe(apnsId);
    expect(apns.messages()[0]).toMatchObject({
      apnsId,
      headers: {
        "apns-topic": apple.topic,
        "apns-push-type": "alert",
        "apns-priority": "10",
        "apns-expiration": "0",
      },
      payload: { aps: { alert: { title: "Заказ", body: "Оплачен" } } },
      providerToken: { kid: apple.keyId, iss: apple.teamId },
    });
    // Without one, APNs makes the id.
    expect(String((await sendApns()).headers["apns-id"])).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses provider tokens APNs would refuse", async () => {
    const token = (header: object, claims: object, key: KeyObject = teamKey) =>
      `bearer ${jwt(header, claims, key, "ES256")}`;
    const stranger = createPrivateKey(pemKeyPair("ec").privateKey);
    const cases: [string | undefined, string][] = [
      [undefined, "MissingProviderToken"],
      ["bearer not.a.jwt", "InvalidProviderToken"],
      [token({ alg: "ES256", kid: "OTHERKEY00" }, { iss: apple.teamId, iat: now() }), "InvalidProviderToken"],
      [token({ alg: "ES256", kid: apple.keyId }, { iss: "OTHERTEAM0", iat: now() }), "InvalidProviderToken"],
      [
        token({ alg: "ES256", kid: apple.keyId }, { iss: apple.teamId, iat: now() }, stranger),
        "InvalidProviderToken",
      ],
      [
        token({ alg: "ES256", kid: apple.keyId }, { iss: apple.teamId, iat: now() - 3700 }),
        "ExpiredProviderToken",
      ],
      [
        token({ alg: "ES256", kid: apple.keyId }, { iss: apple.teamId, iat: now() + 600 }),
        "InvalidProviderToken",
      ],
    ];
    for (const [authorization, reason] of cases) {
      const answer = await sendApns({ authorization });
      expect(answer.status, reason).toBe(403);
      expect(answer.body).toEqual({ reason });
    }
    expect(apns.messages()).toEqual([]);
  });

  it("refuses headers, paths and payloads APNs would refuse", async () => {
    const cases: [Parameters<typeof sendApns>, number, string][] = [
      [[{ "apns-topic": undefined }], 400, "MissingTopic"],
      [[{ "apns-topic": "ru.other.app" }], 400, "TopicDisallowed"],
      [[{ "apns-push-type": undefined }], 400, "InvalidPushType"],
      [[{ "apns-priority": "7" }], 400, "BadPriority"],
      [[{ "apns-push-type": "background", "apns-priority": "10" }], 400, "BadPriority"],
      [[{ "apns-expiration": "tomorrow" }], 400, "BadExpirationDate"],
      [[{ "apns-id": "not-a-uuid" }], 400, "BadMessageId"],
      [[{ "apns-collapse-id": "x".repeat(65) }], 400, "BadCollapseId"],
      [[{}, undefined, "/3/device/not-hex"], 400, "BadDeviceToken"],
      [[{}, undefined, "/3/devices/abc"], 404, "BadPath"],
      [[{ [constants.HTTP2_HEADER_METHOD]: "PUT" }], 405, "MethodNotAllowed"],
      [[{}, ""], 400, "PayloadEmpty"],
      [[{}, JSON.stringify({ aps: { alert: "x".repeat(4100) } })], 413, "PayloadTooLarge"],
    ];
    for (const [args, status, reason] of cases) {
      const answer = await sendApns(...args);
      expect(answer.status, reason).toBe(status);
      expect(answer.body).toEqual({ reason });
    }
    expect(apns.messages()).toEqual([]);
  });

  it("answers 410 with its timestamp for a token marked gone over its page, and shows what arrived escaped", async () => {
    const page = (path: string, init?: RequestInit) => fetch(`${apns.httpUrl}${path}`, init);
    const token = randomBytes(32).toString("hex");
    const marked = await page("/gone", { method: "POST", body: JSON.stringify({ token }) });
    expect(marked.status).toBe(204);
    const gone = await sendApns({}, undefined, `/3/device/${token}`);
    expect(gone.status).toBe(410);
    expect(gone.body).toEqual({ reason: "Unregistered", timestamp: expect.any(Number) });
    expect(Math.abs(Number(gone.body.timestamp) - Date.now())).toBeLessThan(5_000);

    await sendApns({}, JSON.stringify({ aps: { alert: { title: '<b>"Заказ" & co</b>', body: "ok" } } }));
    const html = await peerPageHtml(`${apns.httpUrl}/`);
    expect(html).toContain("&lt;b&gt;&quot;Заказ&quot; &amp; co&lt;/b&gt;");
    expect(html).not.toContain("<b>");
    expect(
      (await page("/fault", { method: "POST", body: JSON.stringify({ mode: "5xx", status: 502 }) })).status,
    ).toBe(400);
    expect(
      (await page("/fault", { method: "POST", body: JSON.stringify({ mode: "5xx", status: 500 }) })).status,
    ).toBe(200);
    expect((await sendApns()).body).toEqual({ reason: "InternalServerError" });
  });
});
