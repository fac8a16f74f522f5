import { createPublicKey, type KeyObject, randomUUID } from "node:crypto";
import {
  constants,
  createSecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import { setTimeout as delay } from "node:timers/promises";
import { decodeJws, signedWith } from "./jws.ts";
import { FaultSwitch } from "./peer-fault.ts";
import { closingOnFailure, listen, readLimited } from "./peer-http.ts";
import { servePeerPage } from "./peer-page.ts";
import { type PushFault, pushFault } from "./push-fault.ts";
import { goneRoute, type PushPeer } from "./push-peer-page.ts";
import { ReceivedLog } from "./received-log.ts";
import { selfSignedCertificate } from "./self-signed.ts";

// Apple's limits: a provider token is taken for an hour, a payload is at most 4 KiB.
const PROVIDER_TOKEN_SECONDS = 3600;
const CLOCK_SKEW_SECONDS = 60;
const MAX_PAYLOAD_BYTES = 4096;
const MAX_COLLAPSE_ID_BYTES = 64;
const MAX_TOKENS_KEPT = 1000;
const PUSH_TYPES = new Set([
  "alert",
  "background",
  "location",
  "voip",
  "complication",
  "fileprovider",
  "mdm",
  "liveactivity",
  "pushtotalk",
  "widgets",
]);
const DEVICE_PATH = /^\/3\/device\/([^/]*)$/;
const DEVICE_TOKEN = /^[0-9A-Fa-f]{64,200}$/;
const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** One push the peer accepted, as APNs received it. */
export interface ReceivedApnsPush {
  /** The apns-id it was answered with: the request's own, or one the peer made. */
  apnsId: string;
  receivedAt: string;
  deviceToken: string;
  /** The request's apns-* headers, by lower-case name. */
  headers: Record<string, string>;
  payload: Record<string, unknown>;
  /** The provider token's claims that APNs checks. */
  providerToken: { kid: string; iss: string; iat: number };
  /** Bytes of the payload as sent. */
  size: number;
}

export interface ApnsPeerOptions {
  /** The team whose key signs the provider tokens (`iss`). */
  teamId: string;
  /** The signing key's id (`kid`). */
  keyId: string;
  /** The public half of the .p8 key, PEM: what provider tokens are checked against. */
  publicKey: string;
  /** The only topic (bundle id) pushes may go to: the app's. */
  topic: string;
  /** 127.0.0.1 unless told otherwise: the peer keeps what it receives in clear. */
  host?: string;
  /** 0 (the default) takes a free port. */
  port?: number;
  /** The HTTP page's port; 0 (the default) takes a free one. */
  httpPort?: number;
  /** How many accepted pushes are kept; the oldest go first. */
  remember?: number;
  /** Told of failed sessions (a client that distrusts the certificate, one that hangs up). */
  onError?: (error: Error) => void;
}

export interface ApnsPeer extends PushPeer<ReceivedApnsPush> {
  /** The peer's self-signed certificate, for localhost and 127.0.0.1: what a client trusts. */
  readonly ca: string;
  /** Pushes to `token` get 410 Unregistered from now on, with `at` (now by default) as its timestamp. */
  markGone(token: string, at?: Date): void;
  /** The distinct provider tokens presented since the start (the latest thousand), oldest first. */
  providerTokens(): string[];
  /** Requests to /3/device since the start, refused ones too. */
  requests(): number;
}

interface PeerState {
  options: ApnsPeerOptions;
  publicKey: KeyObject;
  faults: FaultSwitch<PushFault>;
  /** Provider tokens by the fault setting in force when each was first seen (FaultSwitch.generation). */
  tokensSeen: Map<string, number>;
  gone: Map<string, number>;
  received: ReceivedLog<ReceivedApnsPush>;
  countRequest(): void;
}

/**
 * APNs' provider API on a local port, HTTP/2 over TLS only, as Apple serves it: `POST
 * /3/device/<token>` is taken with a provider token (ES256 JWT) signed by the team's key and
 * less than an hour old, for the app's topic, with valid apns-* headers and a payload of at
 * most 4 KiB. Answers carry `apns-id`, refusals a JSON `{"reason": …}`.
 */
export async function startApnsPeer(options: ApnsPeerOptions): Promise<ApnsPeer> {
  const host = options.host ?? "127.0.0.1";
  if (!options.topic) throw new Error("the APNs peer needs the app's topic");
  const publicKey = createPublicKey(options.publicKey);
  if (publicKey.asymmetricKeyType !== "ec")
    throw new Error("the APNs peer checks ES256: its key is a P-256 key");
  const certificate = await selfSignedCertificate();
  let requests = 0;
  const state: PeerState = {
    options,
    publicKey,
    faults: new FaultSwitch(pushFault),
    tokensSeen: new Map(),
    gone: new Map(),
    received: new ReceivedLog<ReceivedApnsPush>("the APNs peer", options.remember ?? 1000),
    countRequest: () => {
      requests += 1;
    },
  };

  const server = createSecureServer({ key: certificate.key, cert: certificate.cert, allowHTTP1: false });
  const sessions = new Set<ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    session.on("error", (error) => options.onError?.(error));
  });
  server.on("tlsClientError", (error) => options.onError?.(error));
  server.on("stream", (stream, headers) => {
    handle(state, stream, headers).catch((error: unknown) => {
      options.onError?.(error instanceof Error ? error : new Error(String(error)));
      if (!stream.headersSent && !stream.destroyed) answer(stream, 500, randomUUID(), "InternalServerError");
    });
  });
  const port = await listen(server, options.port ?? 0, host);
  const closeApi = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of sessions) session.destroy();
    await closed;
  };

  const markGone = (token: string, at = new Date()): void => {
    state.gone.set(token.toLowerCase(), at.getTime());
  };
  const page = await servePeerPage(
    {
      title: "APNs peer",
      columns: ["received", "token", "title", "body", "headers"],
      row: (push: ReceivedApnsPush) => {
        const aps = push.payload.aps as Record<string, unknown> | undefined;
        const alert = (aps?.alert ?? {}) as Record<string, unknown>;
        return [
          push.receivedAt,
          `${push.deviceToken.slice(0, 8)}…${push.deviceToken.slice(-4)}`,
          String(alert.title ?? ""),
          String(alert.body ?? ""),
          JSON.stringify(push.headers),
        ];
      },
      received: state.received.asReceivedItems(),
      faults: state.faults,
      routes: { "/gone": goneRoute((token) => markGone(token)) },
    },
    host,
    options.httpPort ?? 0,
  ).catch(closingOnFailure(closeApi));

  return {
    host,
    port,
    httpUrl: page.url,
    ca: certificate.cert,
    ...state.received.asReceivedItems(),
    ...state.faults.asFaultControls(),
    markGone,
    providerTokens: () => [...state.tokensSeen.keys()],
    requests: () => requests,
    close: async () => {
      await Promise.all([closeApi(), page.close()]);
    },
  };
}

async function handle(
  state: PeerState,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
): Promise<void> {
  const body = await readLimited(stream, MAX_PAYLOAD_BYTES);
  const requestedId = single(headers["apns-id"]);
  const apnsId =
    requestedId !== undefined && UUID.test(requestedId) ? requestedId.toLowerCase() : randomUUID();
  const refuse = (status: number, reason: string, extra: Record<string, unknown> = {}) =>
    answer(stream, status, apnsId, reason, extra);

  const fault = state.faults.get();
  if (fault.mode === "slow") {
    state.faults.hit();
    await delay(fault.delayMs ?? 0);
  }
  const path = single(headers[constants.HTTP2_HEADER_PATH]) ?? "";
  const device = DEVICE_PATH.exec(path);
  if (!device) return refuse(404, "BadPath");
  if (single(headers[constants.HTTP2_HEADER_METHOD]) !== "POST") return refuse(405, "MethodNotAllowed");
  state.countRequest();
  if (fault.mode === "hang" || fault.mode === "drop" || fault.mode === "5xx" || fault.mode === "rate-limit") {
    state.faults.hit();
    if (fault.mode === "hang") return;
    if (fault.mode === "drop") {
      stream.session?.destroy();
      return;
    }
    if (fault.mode === "rate-limit") return refuse(429, "TooManyRequests");
    return fault.status === 500 ? refuse(500, "InternalServerError") : refuse(503, "ServiceUnavailable");
  }

  const providerToken = checkProviderToken(state, single(headers.authorization));
  if ("refused" in providerToken) return refuse(403, providerToken.refused);

  const topic = single(headers["apns-topic"]);
  if (topic === undefined) return refuse(400, "MissingTopic");
  if (topic !== state.options.topic) return refuse(400, "TopicDisallowed");
  const pushType = single(headers["apns-push-type"]);
  if (pushType === undefined || !PUSH_TYPES.has(pushType)) return refuse(400, "InvalidPushType");
  const priority = single(headers["apns-priority"]);
  if (priority !== undefined && !["1", "5", "10"].includes(priority)) return refuse(400, "BadPriority");
  // A background push must go at low priority; it is refused otherwise.
  if (pushType === "background" && priority !== undefined && priority !== "5")
    return refuse(400, "BadPriority");
  const expiration = single(headers["apns-expiration"]);
  if (expiration !== undefined && !/^\d{1,10}$/.test(expiration)) return refuse(400, "BadExpirationDate");
  if (requestedId !== undefined && !UUID.test(requestedId)) return refuse(400, "BadMessageId");
  const collapseId = single(headers["apns-collapse-id"]);
  if (collapseId !== undefined && Buffer.byteLength(collapseId) > MAX_COLLAPSE_ID_BYTES) {
    return refuse(400, "BadCollapseId");
  }

  const deviceToken = device[1] ?? "";
  if (deviceToken === "") return refuse(400, "MissingDeviceToken");
  if (!DEVICE_TOKEN.test(deviceToken)) return refuse(400, "BadDeviceToken");
  if (body === undefined) return refuse(413, "PayloadTooLarge");
  if (body.length === 0) return refuse(400, "PayloadEmpty");
  const payload = jsonObject(body);
  // Apple documents no reason for a payload that is not a JSON object: the peer names it so.
  if (!payload || (payload.aps !== undefined && !isObject(payload.aps))) return refuse(400, "BadPayload");
  const goneAt = state.gone.get(deviceToken.toLowerCase());
  if (goneAt !== undefined) return refuse(410, "Unregistered", { timestamp: goneAt });

  state.received.keep({
    apnsId,
    receivedAt: new Date().toISOString(),
    deviceToken,
    headers: apnsHeaders(headers),
    payload,
    providerToken: providerToken.claims,
    size: body.length,
  });
  stream.respond({ [constants.HTTP2_HEADER_STATUS]: 200, "apns-id": apnsId });
  stream.end();
}

type ProviderTokenCheck = { refused: string } | { claims: ReceivedApnsPush["providerToken"] };

/** The provider token's claims, or why APNs would refuse it (403). */
function checkProviderToken(state: PeerState, authorization: string | undefined): ProviderTokenCheck {
  const token = /^bearer (\S+)$/i.exec(authorization ?? "")?.[1];
  if (token === undefined) return { refused: "MissingProviderToken" };
  const firstSeen = state.tokensSeen.get(token) ?? state.faults.generation();
  state.tokensSeen.set(token, firstSeen);
  // Anyone may present tokens: only the latest are kept, far more than a provider makes in a day.
  if (state.tokensSeen.size > MAX_TOKENS_KEPT)
    state.tokensSeen.delete(state.tokensSeen.keys().next().value ?? "");
  const jws = decodeJws(token);
  if (!jws) return { refused: "InvalidProviderToken" };
  const { kid } = jws.header;
  const { iss, iat } = jws.payload;
  if (kid !== state.options.keyId || iss !== state.options.teamId) return { refused: "InvalidProviderToken" };
  if (!signedWith(jws, "ES256", state.publicKey)) return { refused: "InvalidProviderToken" };
  const now = Math.floor(Date.now() / 1000);
  if (typeof iat !== "number" || iat > now + CLOCK_SKEW_SECONDS) return { refused: "InvalidProviderToken" };
  if (iat < now - PROVIDER_TOKEN_SECONDS) return { refused: "ExpiredProviderToken" };
  const fault = state.faults.get();
  if (fault.mode === "invalid-token") {
    state.faults.hit();
    return { refused: "InvalidProviderToken" };
  }
  if (fault.mode === "expired-token" && firstSeen < state.faults.generation()) {
    state.faults.hit();
    return { refused: "ExpiredProviderToken" };
  }
  return { claims: { kid, iss, iat } };
}

function answer(
  stream: ServerHttp2Stream,
  status: number,
  apnsId: string,
  reason: string,
  extra: Record<string, unknown> = {},
): void {
  stream.respond({
    [constants.HTTP2_HEADER_STATUS]: status,
    "apns-id": apnsId,
    "content-type": "application/json",
  });
  stream.end(JSON.stringify({ reason, ...extra }));
}

function apnsHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const text = single(value);
    if (name.startsWith("apns-") && text !== undefined) kept[name] = text;
  }
  return kept;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function jsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
