import { createHmac, timingSafeEqual } from "node:crypto";
import { CHANNELS, type Channel } from "../channels.ts";

/** What one unsubscribe link turns off: one notification type for one user on one channel. */
export interface UnsubscribeScope {
  userId: string;
  /** The notification type (the template's name), as preferences key it. */
  type: string;
  channel: Channel;
}

const SIGNATURE_BYTES = 16;

/**
 * Signed unsubscribe links (RFC 8058 one-click, and the same link for a person's click).
 * The token holds the scope and an HMAC of it: a link cannot be made for another user or
 * type, and needs no storage. It does not expire, as mail clients keep offering it for as
 * long as the message is kept, and using it twice changes nothing the second time.
 */
export class UnsubscribeLinks {
  constructor(
    private readonly secret: Buffer,
    /** Where the api role is reached from the outside, e.g. https://notify.example.ru */
    private readonly publicBaseUrl: string,
    /** The users whose preferences can be kept: the others get no link, as it could not work. */
    private readonly offeredTo: (userId: string) => boolean = () => true,
  ) {
    if (secret.length < 32) throw new Error("the unsubscribe link key must be at least 32 bytes");
  }

  urlFor(scope: UnsubscribeScope): string | undefined {
    if (!this.offeredTo(scope.userId)) return undefined;
    const body = Buffer.from(JSON.stringify([scope.userId, scope.type, scope.channel])).toString("base64url");
    return `${this.publicBaseUrl.replace(/\/+$/, "")}/api/v1/notifications/unsubscribe/${body}.${this.sign(body)}`;
  }

  /** The scope a token was made for; undefined when it was not made by us or was changed. */
  open(token: string): UnsubscribeScope | undefined {
    const [body, signature, ...rest] = token.split(".");
    if (!body || !signature || rest.length > 0) return undefined;
    const given = Buffer.from(signature, "base64url");
    const expected = Buffer.from(this.sign(body), "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body, "base64url").toString());
    } catch {
      return undefined;
    }
    if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
    const [userId, type, channel] = parsed as unknown[];
    if (typeof userId !== "string" || typeof type !== "string" || !CHANNELS.includes(channel as Channel)) {
      return undefined;
    }
    return { userId, type, channel: channel as Channel };
  }

  private sign(body: string): string {
    return createHmac("sha256", this.secret)
      .update(`unsubscribe:${body}`)
      .digest()
      .subarray(0, SIGNATURE_BYTES)
      .toString("base64url");
  }
}
