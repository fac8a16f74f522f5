import { createPrivateKey } from "node:crypto";
import { Agent } from "node:https";
import { type App, deleteApp, FirebaseError, initializeApp } from "firebase-admin/app";
import { getMessaging, type Message, type Messaging } from "firebase-admin/messaging";
import type { Channel } from "../../core/channels.ts";
import { redactErrorText } from "../../core/personal-data.ts";
import type { DeliveryOutcome, OutgoingMessage, Provider } from "../../core/sending/index.ts";
import { ServiceAccountCredential } from "./google-service-account.ts";
import { SendsInFlight } from "./sends-in-flight.ts";

export interface FcmProviderOptions {
  /** Unique among the providers, e.g. "push_fcm-primary"; also names its firebase-admin app. */
  name: string;
  /** The Firebase project the app's devices are registered with. */
  projectId: string;
  /** The service account's address and private key (PEM), as in its JSON key file. */
  clientEmail: string;
  privateKey: string;
  /**
   * Carries every request, the OAuth token exchange included: a proxy, or a local peer in place
   * of Google's hosts (routedHttpsAgent). Its owner destroys it; without one the provider keeps
   * an agent of its own, destroyed on close.
   */
  httpAgent?: Agent;
  /**
   * How long one send may take in all (10 s by default): the token exchange and firebase-admin's
   * own retries (of 503 and of dropped connections, up to ~7 s of back-off) included.
   */
  timeoutMs?: number;
}

// firebase-admin's codes for a message FCM will never take as it is: sending it again changes nothing.
const MESSAGE_REFUSED = new Set([
  "messaging/invalid-argument",
  "messaging/invalid-payload",
  "messaging/invalid-data-payload-key",
  "messaging/payload-size-limit-exceeded",
  "messaging/invalid-options",
  "messaging/invalid-package-name",
  "messaging/invalid-recipient",
]);
// The device token itself is dead: the app was removed, or the token was never one.
const DESTINATION_GONE = new Set([
  "messaging/registration-token-not-registered",
  "messaging/invalid-registration-token",
  "messaging/installation-id-not-registered",
]);
// Sending messages is all the access token may do.
const MESSAGING_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
const MAX_REASON_LENGTH = 500;

/**
 * Push to Android and iOS devices through FCM's HTTP v1 API, with firebase-admin's messaging
 * `send()` on an app of its own, whose credential is the service account (its access token,
 * cached by firebase-admin, is renewed before it expires). `send()` speaks HTTP/1.1 through the
 * agent, whatever enableLegacyHttpTransport() says: that switch is for sendEach() alone.
 */
export class FcmProvider implements Provider {
  private readonly sends: SendsInFlight;
  readonly name: string;
  readonly channels: readonly Channel[] = ["push_fcm"];
  private readonly app: App;
  private readonly messaging: Messaging;
  private readonly ownAgent: Agent | undefined;
  private readonly timeoutMs: number;

  constructor(options: FcmProviderOptions) {
    if (!options.name) throw new Error("an FCM provider needs a name");
    // Google's rule for project ids: 6 to 30 lower-case letters, digits and hyphens.
    if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(options.projectId)) {
      throw new Error(`${options.name}: the FCM project id is not a Google project id: ${options.projectId}`);
    }
    if (!/^[^@\s]+@[^@\s]+$/.test(options.clientEmail)) {
      throw new Error(`${options.name}: the service account's client email is not an address`);
    }
    let keyType: string | undefined;
    try {
      keyType = createPrivateKey(options.privateKey).asymmetricKeyType;
    } catch (error) {
      throw new Error(`${options.name}: the service account's private key is not a PEM key`, {
        cause: error,
      });
    }
    // Google signs service account assertions with RS256 only.
    if (keyType !== "rsa")
      throw new Error(`${options.name}: the service account's key must be RSA, got ${keyType}`);
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1)) {
      throw new Error(`${options.name}: timeoutMs must be a whole number above 0, got ${timeoutMs}`);
    }
    this.name = options.name;
    this.sends = new SendsInFlight(this.name);
    this.timeoutMs = timeoutMs;
    const agent = options.httpAgent ?? new Agent({ keepAlive: true });
    this.ownAgent = options.httpAgent ? undefined : agent;
    const { clientEmail, privateKey } = options;
    const credential = new ServiceAccountCredential(
      { clientEmail, privateKey, scopes: [MESSAGING_SCOPE] },
      agent,
      timeoutMs,
    );
    this.app = initializeApp(
      { credential, projectId: options.projectId, httpAgent: agent },
      `notification-service/${options.name}`,
    );
    this.messaging = getMessaging(this.app);
  }

  send(message: OutgoingMessage): Promise<DeliveryOutcome> {
    return this.sends.track(() => this.withinTimeout(message));
  }

  /** New messages fail as retryable at once; the ones in flight get their outcome (bounded by timeoutMs) first. */
  async close(): Promise<void> {
    await this.sends.drain();
    await deleteApp(this.app);
    // Also cuts what firebase-admin still retries of a send that timed out here.
    this.ownAgent?.destroy();
  }

  /**
   * The send, or a retryable failure once `timeoutMs` has passed: firebase-admin bounds each
   * attempt by 15 s and retries some, and takes no signal to stop sooner. What it still does
   * after that ends without anyone waiting (the outcome is already given).
   */
  private async withinTimeout(message: OutgoingMessage): Promise<DeliveryOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<DeliveryOutcome>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            status: "failed",
            reason: `FCM gave no answer within ${this.timeoutMs} ms`,
            retryable: true,
          }),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([this.deliver(message), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async deliver(message: OutgoingMessage): Promise<DeliveryOutcome> {
    const { destination } = message;
    if (destination.channel !== "push_fcm") {
      throw new Error(
        `${this.name} delivers push_fcm, not ${destination.channel}: it was chosen against its channels`,
      );
    }
    const fcmMessage = fcmMessageOf(message, destination.deviceToken);
    try {
      // `projects/<id>/messages/<id>`: FCM's name for what it accepted.
      return { status: "sent", providerMessageId: await this.messaging.send(fcmMessage) };
    } catch (error) {
      return failure(error);
    }
  }
}

/** The v1 message: the same push for Android (`android`) and for iOS through FCM (`apns`). */
function fcmMessageOf(message: OutgoingMessage, token: string): Message {
  const push = message.push ?? {};
  const high = message.priority === "high";
  const { expiresAt } = message;
  // What is already due goes now or never: a TTL of 0, an APNs expiration of 0.
  const secondsLeft = expiresAt && Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  const apnsHeaders: Record<string, string> = { "apns-priority": high ? "10" : "5" };
  if (expiresAt) {
    apnsHeaders["apns-expiration"] = String(secondsLeft === 0 ? 0 : Math.floor(expiresAt.getTime() / 1000));
  }
  if (push.collapseKey !== undefined) apnsHeaders["apns-collapse-id"] = push.collapseKey;
  const androidNotification = definedOnly({
    tag: push.threadId,
    sound: push.sound,
    notificationCount: push.badge,
  });
  const aps = definedOnly({ badge: push.badge, sound: push.sound, threadId: push.threadId });
  return {
    token,
    notification: { title: message.subject, body: message.body },
    ...(push.data ? { data: push.data } : {}),
    android: {
      priority: high ? "high" : "normal",
      // firebase-admin takes milliseconds and writes FCM's "<seconds>s".
      ...(secondsLeft !== undefined ? { ttl: secondsLeft * 1000 } : {}),
      ...(push.collapseKey !== undefined ? { collapseKey: push.collapseKey } : {}),
      ...(androidNotification ? { notification: androidNotification } : {}),
    },
    apns: { headers: apnsHeaders, ...(aps ? { payload: { aps } } : {}) },
  };
}

/** `fields` without its undefined ones, or undefined when none is left: FCM is sent no empty objects. */
function definedOnly<T extends object>(fields: T): Partial<T> | undefined {
  const kept = Object.entries(fields).filter(([, value]) => value !== undefined);
  return kept.length > 0 ? (Object.fromEntries(kept) as Partial<T>) : undefined;
}

function failure(error: unknown): DeliveryOutcome {
  if (!(error instanceof FirebaseError)) {
    // Not an answer of FCM's: a failure on the way there, so another try or provider may do.
    return { status: "failed", reason: reasonOf(String(error)), retryable: true };
  }
  const status = error.httpResponse?.status;
  // firebase-admin quotes why the token exchange failed inside a sentence of its own, where
  // redaction would hide it as a quoted value: the credential's own words say it plainly.
  const said =
    error.code === "app/invalid-credential" && error.cause instanceof Error
      ? error.cause.message
      : error.message;
  const reason = reasonOf(`${error.code}${status ? ` (${status})` : ""}: ${said}`);
  if (DESTINATION_GONE.has(error.code))
    return { status: "failed", reason, retryable: false, destinationGone: true };
  if (MESSAGE_REFUSED.has(error.code)) {
    // FCM says INVALID_ARGUMENT of a malformed token and of a malformed message alike; only
    // its words tell which ("The registration token is not a valid FCM registration token",
    // firebase-admin-java#1064).
    const tokenInvalid = /registration token/i.test(error.message);
    return { status: "failed", reason, retryable: false, ...(tokenInvalid ? { destinationGone: true } : {}) };
  }
  // Unknown answers of 4xx refuse the message; everything else is FCM or our credentials
  // (refused token exchange, 401, mismatched project), which failover or a fix can get past.
  const unknown =
    error.code === "messaging/unknown-error" && status !== undefined && status >= 400 && status < 500;
  const retryAfterMs = retryAfterMsOf(error.httpResponse?.headers["retry-after"]);
  return {
    status: "failed",
    reason,
    retryable: !unknown,
    ...(retryAfterMs !== undefined && !unknown ? { retryAfterMs } : {}),
  };
}

/** Retry-After as seconds or as an HTTP date (RFC 9110 §10.2.3), in milliseconds from now. */
function retryAfterMsOf(header: unknown): number | undefined {
  if (typeof header !== "string" || header.trim() === "") return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** What FCM or firebase-admin said, with tokens, addresses and quoted values hidden. */
function reasonOf(text: string): string {
  return redactErrorText(text.replace(/\s+/g, " ").trim()).slice(0, MAX_REASON_LENGTH);
}
