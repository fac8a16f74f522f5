import { createPublicKey, type KeyObject, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { setTimeout as delay } from "node:timers/promises";
import { fcmMessageProblem } from "./fcm-validation.ts";
import { decodeJws, signedWith } from "./jws.ts";
import { FaultSwitch } from "./peer-fault.ts";
import { closingOnFailure, listen, readLimited, stop } from "./peer-http.ts";
import { servePeerPage } from "./peer-page.ts";
import { type PushFault, pushFault } from "./push-fault.ts";
import { goneRoute, type PushPeer } from "./push-peer-page.ts";
import { ReceivedLog } from "./received-log.ts";
import { selfSignedCertificate } from "./self-signed.ts";

/** The hosts firebase-admin sends to, which the peer's certificate carries (see routedHttpsAgent). */
export const FCM_HOSTNAMES = ["fcm.googleapis.com", "oauth2.googleapis.com"] as const;

// What a service account's assertion names as `aud`, and where it is posted, as Google's clients do.
const TOKEN_URL = "https://oauth2.googleapis.com/token";
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const MESSAGING_SCOPES = [
  "https://www.googleapis.com/auth/firebase.messaging",
  "https://www.googleapis.com/auth/cloud-platform",
];
// Google takes an assertion for at most an hour, and a little clock skew.
const MAX_ASSERTION_SECONDS = 3600;
const CLOCK_SKEW_SECONDS = 60;
const MAX_REQUEST_BYTES = 64 * 1024;
const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send$/;

/** One message the peer accepted, as FCM received it. */
export interface ReceivedFcmMessage {
  /** `projects/…/messages/…`, as the answer named it. */
  name: string;
  receivedAt: string;
  /** The host the request asked for (fcm.googleapis.com when routed as the SDK is). */
  host: string;
  /** The access token it carried: one the peer issued. */
  accessToken: string;
  /** The v1 message as sent, keys as on the wire (`collapse_key`, `notification_count`, `thread-id`). */
  message: Record<string, unknown>;
}

export interface FcmPeerOptions {
  projectId: string;
  /** The service account whose assertions are taken. */
  clientEmail: string;
  /** The public half of the service account's key, PEM: what its assertions are checked against. */
  publicKey: string;
  /** 127.0.0.1 unless told otherwise: the peer keeps what it receives in clear. */
  host?: string;
  /** 0 (the default) takes a free port. */
  port?: number;
  /** The HTTP page's port; 0 (the default) takes a free one. */
  httpPort?: number;
  /** The access tokens' `expires_in` (3599 s by default, as Google's). */
  accessTokenLifetimeSeconds?: number;
  /** How many accepted messages are kept; the oldest go first. */
  remember?: number;
  /** Told of failed connections (a client that distrusts the certificate, one that hangs up). */
  onError?: (error: Error) => void;
}

export interface FcmPeer extends PushPeer<ReceivedFcmMessage> {
  /** The peer's self-signed certificate, valid for FCM_HOSTNAMES and localhost: what a client trusts. */
  readonly ca: string;
  /** Sends to `token` are answered 404 UNREGISTERED from now on, as after the app was removed. */
  markGone(token: string): void;
  /** The access tokens issued since the start and not yet expired, oldest first. */
  accessTokens(): string[];
  /** Requests to messages:send since the start, refused ones too. */
  sendRequests(): number;
}

interface IssuedToken {
  expiresAt: number;
  /** The fault setting in force when it was issued (FaultSwitch.generation). */
  issuedUnder: number;
}

/**
 * FCM's HTTP v1 API and Google's OAuth token endpoint on one local HTTPS port, for firebase-admin
 * routed there (its hosts cannot be changed): it takes a service account's JWT assertion only
 * when signed by its key and addressed as Google wants it, issues short-lived access tokens,
 * and accepts a message only with one of them and in a shape FCM accepts. HTTP/1.1, the
 * transport firebase-admin's `send()` uses.
 */
export async function startFcmPeer(options: FcmPeerOptions): Promise<FcmPeer> {
  const host = options.host ?? "127.0.0.1";
  const lifetime = options.accessTokenLifetimeSeconds ?? 3599;
  if (!(Number.isInteger(lifetime) && lifetime >= 1)) {
    throw new Error(`the FCM peer's access tokens live a whole number of seconds, got ${lifetime}`);
  }
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(options.projectId)) {
    throw new Error(`the FCM peer's project id is not a Google project id: ${options.projectId}`);
  }
  const publicKey = createPublicKey(options.publicKey);
  const certificate = await selfSignedCertificate(FCM_HOSTNAMES);
  const received = new ReceivedLog<ReceivedFcmMessage>("the FCM peer", options.remember ?? 1000);
  const faults = new FaultSwitch(pushFault);
  const issued = new Map<string, IssuedToken>();
  const gone = new Set<string>();
  let sends = 0;
  let sequence = 0;

  const context: RequestContext = {
    options,
    publicKey,
    lifetime,
    faults,
    issued,
    gone,
    received,
    nextName: () => {
      sequence += 1;
      // As FCM names them: "0:<microseconds>%<16 hex digits>".
      const id = `0:${Date.now() * 1000 + (sequence % 1000)}%${randomBytes(8).toString("hex")}`;
      return `projects/${options.projectId}/messages/${id}`;
    },
    countSend: () => {
      sends += 1;
    },
  };

  const server = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (request, response) => {
    handle(context, request, response).catch((error: unknown) => {
      options.onError?.(error instanceof Error ? error : new Error(String(error)));
      response.destroy();
    });
  });
  server.on("tlsClientError", (error) => options.onError?.(error));
  const port = await listen(server, options.port ?? 0, host);
  const closeApi = () => stop(server);

  const markGone = (token: string): void => {
    gone.add(token);
  };
  const page = await servePeerPage(
    {
      title: "FCM peer",
      columns: ["received", "token", "title", "body", "data"],
      row: (item: ReceivedFcmMessage) => {
        const notification = (item.message.notification ?? {}) as Record<string, unknown>;
        return [
          item.receivedAt,
          shortToken(String(item.message.token ?? "")),
          String(notification.title ?? ""),
          String(notification.body ?? ""),
          JSON.stringify(item.message.data ?? {}),
        ];
      },
      received: received.asReceivedItems(),
      faults,
      routes: { "/gone": goneRoute(markGone) },
    },
    host,
    options.httpPort ?? 0,
  ).catch(closingOnFailure(closeApi));

  return {
    host,
    port,
    httpUrl: page.url,
    ca: certificate.cert,
    ...received.asReceivedItems(),
    ...faults.asFaultControls(),
    markGone,
    accessTokens: () =>
      [...issued].filter(([, grant]) => grant.expiresAt > Date.now()).map(([token]) => token),
    sendRequests: () => sends,
    close: async () => {
      await Promise.all([closeApi(), page.close()]);
    },
  };
}

interface RequestContext {
  options: FcmPeerOptions;
  publicKey: KeyObject;
  lifetime: number;
  faults: FaultSwitch<PushFault>;
  issued: Map<string, IssuedToken>;
  gone: Set<string>;
  received: ReceivedLog<ReceivedFcmMessage>;
  nextName(): string;
  countSend(): void;
}

/** What the peer answers: a JSON body with its status, or, as a fault, no answer or a cut connection. */
type Answer = { status: number; body: unknown; headers?: Record<string, string> } | "hang" | "drop";

async function handle(
  context: RequestContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const body = await readLimited(request, MAX_REQUEST_BYTES);
  const fault = context.faults.get();
  if (fault.mode === "slow") {
    context.faults.hit();
    await delay(fault.delayMs ?? 0);
  }
  const answer = route(context, request, body);
  if (answer === "hang") return;
  if (answer === "drop") {
    request.socket.destroy();
    return;
  }
  response
    .writeHead(answer.status, { "content-type": "application/json; charset=UTF-8", ...answer.headers })
    .end(JSON.stringify(answer.body));
}

function route(context: RequestContext, request: IncomingMessage, body: Buffer | undefined): Answer {
  const hostname = (request.headers.host ?? "").replace(/:\d+$/, "");
  const path = new URL(request.url ?? "/", "https://peer").pathname;
  if (body === undefined)
    return googleError(413, "INVALID_ARGUMENT", "Request payload size exceeds the limit.");
  // Google's front end knows each API on its own host: the other host's paths are not there.
  if (hostname === "oauth2.googleapis.com" && path === "/token") {
    if (request.method !== "POST") return oauthError(405, "invalid_request", "POST only");
    return token(context, request, body);
  }
  const send = SEND_PATH.exec(path);
  if (hostname === "fcm.googleapis.com" && send) {
    if (request.method !== "POST") return googleError(405, "INVALID_ARGUMENT", "POST only.");
    context.countSend();
    return sendMessage(context, request, decodeURIComponent(send[1] ?? ""), body);
  }
  return googleError(404, "NOT_FOUND", `${hostname}${path} was not found on this server.`);
}

/** The JWT-bearer grant (RFC 7523) as Google's token endpoint takes it from a service account. */
function token(context: RequestContext, request: IncomingMessage, body: Buffer): Answer {
  if (!/^application\/x-www-form-urlencoded\b/.test(request.headers["content-type"] ?? "")) {
    return oauthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
  }
  const form = new URLSearchParams(body.toString("utf8"));
  const grantType = form.get("grant_type") ?? "";
  if (grantType !== JWT_BEARER)
    return oauthError(400, "unsupported_grant_type", `Invalid grant_type: ${grantType}`);
  const jws = decodeJws(form.get("assertion") ?? "");
  if (!jws) return oauthError(400, "invalid_grant", "Invalid JWT: the assertion is not a signed JWT.");
  const { iss, aud, scope, iat, exp } = jws.payload;
  if (iss !== context.options.clientEmail)
    return oauthError(400, "invalid_grant", "Invalid grant: account not found");
  // A key deleted from the account (invalid-token) and a key that is not the account's look alike.
  if (context.faults.get().mode === "invalid-token" || !signedWith(jws, "RS256", context.publicKey)) {
    context.faults.hit();
    return oauthError(400, "invalid_grant", "Invalid JWT Signature.");
  }
  if (aud !== TOKEN_URL) {
    return oauthError(
      400,
      "invalid_grant",
      `Invalid JWT: Failed audience check. The right audience is ${TOKEN_URL}`,
    );
  }
  const now = Math.floor(Date.now() / 1000);
  const timely =
    typeof iat === "number" &&
    typeof exp === "number" &&
    iat <= now + CLOCK_SKEW_SECONDS &&
    exp > now - CLOCK_SKEW_SECONDS &&
    exp > iat &&
    exp - iat <= MAX_ASSERTION_SECONDS;
  if (!timely) {
    return oauthError(
      400,
      "invalid_grant",
      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
    );
  }
  const scopes = typeof scope === "string" ? scope.split(" ") : [];
  if (!scopes.some((granted) => MESSAGING_SCOPES.includes(granted))) {
    return oauthError(400, "invalid_scope", "No scope that lets messages be sent was requested.");
  }
  const accessToken = `ya29.peer-${randomBytes(32).toString("base64url")}`;
  // Expired tokens are refused whether kept or not: forgetting them bounds what is kept.
  for (const [issued, grant] of context.issued)
    if (grant.expiresAt <= Date.now()) context.issued.delete(issued);
  context.issued.set(accessToken, {
    issuedUnder: context.faults.generation(),
    expiresAt: Date.now() + context.lifetime * 1000,
  });
  return {
    status: 200,
    body: { access_token: accessToken, expires_in: context.lifetime, token_type: "Bearer" },
  };
}

function sendMessage(
  context: RequestContext,
  request: IncomingMessage,
  projectId: string,
  body: Buffer,
): Answer {
  const fault = context.faults.get();
  if (fault.mode === "hang" || fault.mode === "drop" || fault.mode === "5xx" || fault.mode === "rate-limit") {
    context.faults.hit();
    if (fault.mode === "hang" || fault.mode === "drop") return fault.mode;
    if (fault.mode === "rate-limit") {
      return googleError(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute'.",
        { fcmErrorCode: "QUOTA_EXCEEDED", headers: { "retry-after": String(fault.retryAfterSeconds ?? 30) } },
      );
    }
    return fault.status === 500
      ? googleError(500, "INTERNAL", "Internal error encountered.", { fcmErrorCode: "INTERNAL" })
      : googleError(503, "UNAVAILABLE", "The service is currently unavailable.", {
          fcmErrorCode: "UNAVAILABLE",
        });
  }
  const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? "")?.[1];
  if (bearer === undefined) {
    return googleError(
      401,
      "UNAUTHENTICATED",
      "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
    );
  }
  const grant = context.issued.get(bearer);
  const expired =
    grant !== undefined &&
    (grant.expiresAt <= Date.now() ||
      (fault.mode === "expired-token" && grant.issuedUnder < context.faults.generation()));
  if (grant === undefined || expired || fault.mode === "invalid-token") {
    if (fault.mode === "expired-token" || fault.mode === "invalid-token") context.faults.hit();
    return googleError(
      401,
      "UNAUTHENTICATED",
      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
    );
  }
  if (projectId !== context.options.projectId) {
    return googleError(
      403,
      "PERMISSION_DENIED",
      `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${projectId}' (or it may not exist).`,
    );
  }
  if (!/^application\/json\b/.test(request.headers["content-type"] ?? "")) {
    return googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token.");
  }
  const problem = fcmMessageProblem(parsed);
  if (problem) {
    return googleError(400, "INVALID_ARGUMENT", problem.message, {
      fcmErrorCode: "INVALID_ARGUMENT",
      ...(problem.field ? { fieldViolation: { field: problem.field, description: problem.message } } : {}),
    });
  }
  const { message, validate_only: validateOnly } = parsed as {
    message: Record<string, unknown>;
    validate_only?: boolean;
  };
  if (context.gone.has(String(message.token))) {
    return googleError(404, "NOT_FOUND", "Requested entity was not found.", { fcmErrorCode: "UNREGISTERED" });
  }
  // A dry run is checked in full and sent nowhere, and FCM names it so.
  if (validateOnly === true)
    return { status: 200, body: { name: `projects/${projectId}/messages/fake_message_id` } };
  const name = context.nextName();
  context.received.keep({
    name,
    receivedAt: new Date().toISOString(),
    host: request.headers.host ?? "",
    accessToken: bearer,
    message,
  });
  return { status: 200, body: { name } };
}

interface ErrorExtras {
  fcmErrorCode?: string;
  fieldViolation?: { field: string; description: string };
  headers?: Record<string, string>;
}

/** An error as Google APIs give one (google.rpc.Status), with FCM's own code among its details. */
function googleError(code: number, status: string, message: string, extras: ErrorExtras = {}): Answer {
  const details: unknown[] = [];
  if (extras.fcmErrorCode) {
    details.push({
      "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
      errorCode: extras.fcmErrorCode,
    });
  }
  if (extras.fieldViolation) {
    details.push({
      "@type": "type.googleapis.com/google.rpc.BadRequest",
      fieldViolations: [extras.fieldViolation],
    });
  }
  return {
    status: code,
    body: { error: { code, message, status, ...(details.length > 0 ? { details } : {}) } },
    ...(extras.headers ? { headers: extras.headers } : {}),
  };
}

/** An error as OAuth token endpoints give one (RFC 6749 §5.2). */
function oauthError(status: number, error: string, description: string): Answer {
  return { status, body: { error, error_description: description } };
}

/** Enough of a token to tell two apart on the page. */
function shortToken(token: string): string {
  return token.length > 16 ? `${token.slice(0, 8)}…${token.slice(-4)}` : token;
}
