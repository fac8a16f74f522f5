import { createPrivateKey } from "node:crypto";
import apn from "@parse/node-apn";
import type { Channel } from "../../core/channels.ts";
import { redactErrorText } from "../../core/personal-data.ts";
import type { DeliveryOutcome, OutgoingMessage, Provider } from "../../core/sending/index.ts";
import { SendsInFlight } from "./sends-in-flight.ts";

export interface ApnsProviderOptions {
  /** Unique among the providers, e.g. "push_apns-primary". */
  name: string;
  /** The .p8 signing key Apple gives (PEM, P-256): provider tokens are signed with it. */
  key: string;
  /** The key's id and the team it belongs to, as Apple's developer account shows them. */
  keyId: string;
  teamId: string;
  /** The app's bundle id: every push goes to this topic. */
  topic: string;
  /** api.push.apple.com when true, api.sandbox.push.apple.com (development builds) otherwise. */
  production: boolean;
  /** In place of Apple's host: a local peer, or a relay of ours. */
  address?: string;
  /** 443 by default. */
  port?: number;
  /** The only certificates trusted, in place of the system's: for a private relay or a test peer. */
  ca?: string | string[];
  /**
   * How long APNs may take to answer one request (10 s by default). node-apn sends a push that
   * met 429 or 5xx three more times, each so bounded.
   */
  timeoutMs?: number;
}

// 400 reasons that say the device token itself is no good for this app.
const TOKEN_REASONS = new Set(["BadDeviceToken", "DeviceTokenNotForTopic"]);
const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const APPLE_ID = /^[A-Z0-9]{10}$/;
// What an HTTP/2 header value can carry through node:http2, which writes strings as Latin-1.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
// node-apn's shutdown() waits for ever on a session that was destroyed rather than closed (after
// a failed handshake or a cut connection); by then nothing is in flight, so this is plenty.
const SHUTDOWN_WAIT_MS = 1000;
const MAX_REASON_LENGTH = 500;

/**
 * Push to iOS devices through APNs' HTTP/2 provider API (@parse/node-apn), with token-based
 * auth: node-apn signs an ES256 provider token, renews it before Apple's hour is out, and makes a
 * new one when APNs answers ExpiredProviderToken. The apns-id of every push is our message id,
 * so APNs and we name a push alike.
 */
export class ApnsProvider implements Provider {
  private readonly sends: SendsInFlight;
  readonly name: string;
  readonly channels: readonly Channel[] = ["push_apns"];
  private readonly apns: apn.Provider;
  private readonly topic: string;

  constructor(options: ApnsProviderOptions) {
    if (!options.name) throw new Error("an APNs provider needs a name");
    let key: ReturnType<typeof createPrivateKey>;
    try {
      key = createPrivateKey(options.key);
    } catch (error) {
      throw new Error(`${options.name}: the APNs key is not a PEM key`, { cause: error });
    }
    // Provider tokens are ES256: a P-256 key, as Apple's .p8 files hold.
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      throw new Error(`${options.name}: the APNs key must be a P-256 key (Apple's .p8)`);
    }
    if (!APPLE_ID.test(options.keyId))
      throw new Error(`${options.name}: the APNs key id is 10 letters and digits`);
    if (!APPLE_ID.test(options.teamId))
      throw new Error(`${options.name}: the APNs team id is 10 letters and digits`);
    if (!/^[A-Za-z0-9.-]+$/.test(options.topic)) {
      throw new Error(
        `${options.name}: the APNs topic is the app's bundle id, got ${JSON.stringify(options.topic)}`,
      );
    }
    if (
      options.port !== undefined &&
      !(Number.isInteger(options.port) && options.port > 0 && options.port <= 65535)
    ) {
      throw new Error(`${options.name}: the APNs port must be from 1 to 65535, got ${options.port}`);
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1)) {
      throw new Error(`${options.name}: timeoutMs must be a whole number above 0, got ${timeoutMs}`);
    }
    this.name = options.name;
    this.sends = new SendsInFlight(this.name);
    this.topic = options.topic;
    // node-apn copies its options into the TLS connection's, so `ca` replaces the system's roots.
    this.apns = new apn.Provider({
      token: { key: options.key, keyId: options.keyId, teamId: options.teamId },
      production: options.production,
      ...(options.address !== undefined ? { address: options.address } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.ca !== undefined ? { ca: [options.ca].flat() } : {}),
      requestTimeout: timeoutMs,
    });
  }

  send(message: OutgoingMessage): Promise<DeliveryOutcome> {
    return this.sends.track(() => this.deliver(message));
  }

  /** New messages fail as retryable at once; the ones in flight get their answer first. */
  async close(): Promise<void> {
    await this.sends.drain();
    // node-apn's shutdown() returns nothing to wait on: its callback says when the session is closed.
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_WAIT_MS);
      void this.apns.shutdown(resolve);
    });
    clearTimeout(timer);
  }

  private async deliver(message: OutgoingMessage): Promise<DeliveryOutcome> {
    const { destination } = message;
    if (destination.channel !== "push_apns") {
      throw new Error(
        `${this.name} delivers push_apns, not ${destination.channel}: it was chosen against its channels`,
      );
    }
    if (!UUID.test(message.messageId)) {
      throw new Error(
        `${this.name}: message id ${JSON.stringify(message.messageId)} cannot be an apns-id (a UUID)`,
      );
    }
    const collapseKey = message.push?.collapseKey;
    if (collapseKey !== undefined && !PRINTABLE_ASCII.test(collapseKey)) {
      // It would reach APNs mangled, and collapse pushes it was never meant to.
      return {
        status: "failed",
        reason: "the collapse key is not printable ASCII, as apns-collapse-id must be",
        retryable: false,
      };
    }
    const result = await this.apns.send(this.notificationOf(message), destination.deviceToken);
    const sent = result.sent[0];
    if (sent) {
      const apnsId = (sent as { "apns-id"?: unknown })["apns-id"];
      return { status: "sent", providerMessageId: typeof apnsId === "string" ? apnsId : message.messageId };
    }
    const refused = result.failed[0];
    if (!refused) throw new Error(`${this.name}: node-apn answered neither sent nor failed for one device`);
    return failure(refused);
  }

  private notificationOf(message: OutgoingMessage): apn.Notification {
    const push = message.push ?? {};
    const notification = new apn.Notification();
    notification.id = message.messageId;
    notification.topic = this.topic;
    notification.pushType = "alert";
    // 10 wakes the device at once; 5 lets iOS choose a moment that spares the battery.
    notification.priority = message.priority === "high" ? 10 : 5;
    if (message.expiresAt) {
      // A moment already past is 0: one attempt now, nothing stored for later.
      const seconds = Math.floor(message.expiresAt.getTime() / 1000);
      notification.expiry = seconds * 1000 > Date.now() ? seconds : 0;
    }
    // The app's own keys first: `aps` is Apple's, and node-apn writes it last, over anything so named.
    notification.payload = { ...push.data };
    notification.alert = { title: message.subject, body: message.body };
    if (push.badge !== undefined) notification.badge = push.badge;
    if (push.sound !== undefined) notification.sound = push.sound;
    if (push.threadId !== undefined) notification.threadId = push.threadId;
    if (push.collapseKey !== undefined) notification.collapseId = push.collapseKey;
    return notification;
  }
}

function failure(refused: apn.ResponseFailure): DeliveryOutcome {
  const { status } = refused;
  // node-apn keeps APNs' reason in `response`, except for 403 ExpiredProviderToken and 500, of
  // which it keeps only an error of its own.
  const reasonCode = refused.response?.reason;
  const said = reasonCode ?? refused.error?.message ?? "no answer";
  const reason = reasonOf(status === undefined ? said : `${status} ${said}`, refused.response?.timestamp);
  if (status === 410) return { status: "failed", reason, retryable: false, destinationGone: true };
  if (status === 400 || status === 413 || status === 404 || status === 405) {
    const gone = reasonCode !== undefined && TOKEN_REASONS.has(reasonCode);
    return { status: "failed", reason, retryable: false, ...(gone ? { destinationGone: true } : {}) };
  }
  // 403: our provider token or key (node-apn makes a new token for ExpiredProviderToken and tries
  // again before this); 429, 5xx; and no answer at all (timeouts, cut or refused connections).
  return { status: "failed", reason, retryable: true };
}

/** APNs' status and reason ("410 Unregistered"), or node-apn's error, with tokens hidden. */
function reasonOf(text: string, timestamp: string | number | undefined): string {
  // 410's timestamp: when APNs learnt the token was no longer valid, in milliseconds.
  const since =
    timestamp !== undefined && Number.isFinite(Number(timestamp))
      ? ` since ${new Date(Number(timestamp)).toISOString()}`
      : "";
  return redactErrorText(`${text}${since}`.replace(/\s+/g, " ").trim()).slice(0, MAX_REASON_LENGTH);
}
