import { CHANNELS, type Channel } from "../channels.ts";
import { SignedTokens } from "../signed-tokens.ts";

/** What one unsubscribe link turns off: one notification type for one user on one channel. */
export interface UnsubscribeScope {
  userId: string;
  /** The notification type (the template's name), as preferences key it. */
  type: string;
  channel: Channel;
  /**
   * The message the link came in, so an unsubscribe counts for its campaign; absent in links
   * made before links named their message, which mail clients still offer.
   */
  messageId?: string;
}

const PURPOSE = "unsubscribe";

/**
 * Signed unsubscribe links (RFC 8058 one-click, and the same link for a person's click).
 * The token holds the scope and an HMAC of it: a link cannot be made for another user or
 * type, and needs no storage. It does not expire, as mail clients keep offering it for as
 * long as the message is kept, and using it twice changes nothing the second time.
 */
export class UnsubscribeLinks {
  private readonly tokens: SignedTokens;

  constructor(
    secret: Buffer,
    /** Where the api role is reached from the outside, e.g. https://notify.example.ru */
    private readonly publicBaseUrl: string,
    /** The users whose preferences can be kept: the others get no link, as it could not work. */
    private readonly offeredTo: (userId: string) => boolean = () => true,
  ) {
    this.tokens = new SignedTokens(secret);
  }

  urlFor(scope: UnsubscribeScope): string | undefined {
    if (!this.offeredTo(scope.userId)) return undefined;
    const token = this.tokens.seal(PURPOSE, [
      scope.userId,
      scope.type,
      scope.channel,
      ...(scope.messageId ? [scope.messageId] : []),
    ]);
    return `${this.publicBaseUrl.replace(/\/+$/, "")}/api/v1/notifications/unsubscribe/${token}`;
  }

  /** The scope a token was made for; undefined when it was not made by us or was changed. */
  open(token: string): UnsubscribeScope | undefined {
    const parsed = this.tokens.open(PURPOSE, token);
    if (!Array.isArray(parsed) || parsed.length < 3 || parsed.length > 4) return undefined;
    const [userId, type, channel, messageId] = parsed as unknown[];
    if (typeof userId !== "string" || typeof type !== "string" || !CHANNELS.includes(channel as Channel)) {
      return undefined;
    }
    if (messageId !== undefined && typeof messageId !== "string") return undefined;
    return { userId, type, channel: channel as Channel, ...(messageId ? { messageId } : {}) };
  }
}
