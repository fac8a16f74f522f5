import type { Channel } from "../channels.ts";

/** Where one message goes: one address, of the kind its channel delivers to. */
export type Destination =
  | { channel: "email"; email: string }
  | { channel: "sms"; phone: string }
  | { channel: "push_fcm" | "push_apns"; deviceToken: string }
  | { channel: "in_app"; userId: string };

/** The address itself: what is sealed at rest and what a provider delivers to. */
export function addressOf(destination: Destination): string {
  switch (destination.channel) {
    case "email":
      return destination.email;
    case "sms":
      return destination.phone;
    case "push_fcm":
    case "push_apns":
      return destination.deviceToken;
    case "in_app":
      return destination.userId;
  }
}

/** One rendered message for one destination. */
export interface OutgoingMessage {
  /** Ours, from the delivery's claim: the idempotency key a provider is given where it takes one. */
  messageId: string;
  destination: Destination;
  subject: string;
  body: string;
  /** Email only; empty elsewhere. */
  bodyHtml: string;
  priority: "high" | "normal" | "low";
  /** Past this it is not worth delivering: providers that take a TTL get the time left. */
  expiresAt?: Date;
  /**
   * Email only: the signed one-click unsubscribe address of this message's user (RFC 8058),
   * given as `List-Unsubscribe` with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
   */
  unsubscribeUrl?: string;
  /** Push only: what a push carries besides its title (subject) and text (body). */
  push?: PushOptions;
  /** In-app only: the template's name, the kind of notification the inbox shows it as. */
  notificationType?: string;
}

/** The parts of a push notification that FCM and APNs both know, each under its own name there. */
export interface PushOptions {
  /** Key-value data handed to the app (FCM `data`, APNs custom keys). */
  data?: Record<string, string>;
  /** The app icon's badge (APNs `badge`, FCM `notification_count` on Android). */
  badge?: number;
  sound?: string;
  /** Newer pushes with the same key replace older ones (FCM `collapse_key`, `apns-collapse-id`). */
  collapseKey?: string;
  /** Groups notifications (APNs `thread-id`, FCM Android `tag`). */
  threadId?: string;
}

/**
 * How a send ended, as expected outcomes (STYLE §8): a provider throws only when an
 * assumption of ours is broken. `retryable` failures may succeed later or elsewhere
 * (failover); the others fail the message at once with the provider's reason.
 */
export type DeliveryOutcome =
  | { status: "sent"; providerMessageId: string }
  | { status: "skipped"; reason: string }
  | {
      status: "failed";
      reason: string;
      retryable: boolean;
      retryAfterMs?: number;
      /**
       * The provider says the destination is gone for good (FCM UNREGISTERED, APNs 410 or
       * BadDeviceToken, an address refused as nonexistent): the device is deactivated, the
       * address suppressed for its channel.
       */
      destinationGone?: boolean;
    };

/** A way to deliver: one vendor's API (or the sink), for the channels it serves. */
export interface Provider {
  /** Unique among the configured providers; names it in metrics, logs and the message log. */
  readonly name: string;
  readonly channels: readonly Channel[];
  send(message: OutgoingMessage): Promise<DeliveryOutcome>;
  /** Lets what is in flight finish and releases connections. */
  close(): Promise<void>;
}

/** Sends per second to one provider, counted across every worker. */
/** The sends a rate limit lets go at once: a tenth of a second's worth, at least one. */
export function burstOf(perSecond: number): number {
  return Math.max(1, Math.floor(perSecond / 10));
}

export interface SendRateLimiter {
  /**
   * 0 when `count` sends (1 when not given) to `provider` may go now, and counts them;
   * otherwise the milliseconds until they may. A count over the burst (a tenth of a second's
   * worth) waits until the whole count fits: take at most `burstOf(perSecond)` at a time.
   */
  tryAcquire(provider: string, perSecond: number, count?: number): Promise<number>;
}
