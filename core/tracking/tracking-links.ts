import { SignedTokens } from "../signed-tokens.ts";
import { isUuid } from "../uuids.ts";

const API_PATH = "/api/v1/notifications/";
/** Where the open pixel (`o/<token>`) and the click redirects (`c/<token>`) are served. */
export const TRACKING_PATH = `${API_PATH}t/`;

export type TrackingKind = "open" | "click";

/** What a tracking token names: one message, and for a click the link of it that was followed. */
export type TrackedLink =
  | { kind: "open"; messageId: string; madeAt: Date }
  | { kind: "click"; messageId: string; madeAt: Date; target: string };

const PATH_OF: Record<TrackingKind, string> = { open: "o", click: "c" };
const PURPOSE_OF: Record<TrackingKind, string> = { open: "tracking-open", click: "tracking-click" };

/**
 * The signed addresses of a message's open pixel and of each of its links. A click token
 * carries its target, so the redirect needs no storage and can only go where the message
 * itself linked: a token naming any other address does not pass the signature. Each token
 * also carries its message id and when it was made: it counts for that message only, and
 * not once it is older than the counting window (TrackingHits).
 */
export class TrackingLinks {
  private readonly tokens: SignedTokens;
  /** The start of every address of this service's API as the outside reaches it. */
  private readonly apiBase: string;

  constructor(
    secret: Buffer,
    /** Where the api role is reached from the outside, e.g. https://notify.example.ru */
    publicBaseUrl: string,
  ) {
    this.tokens = new SignedTokens(secret);
    this.apiBase = `${publicBaseUrl.replace(/\/+$/, "")}${API_PATH}`;
  }

  openUrl(messageId: string, at: Date): string {
    return this.urlOf("open", [messageId, secondsOf(at)]);
  }

  clickUrl(messageId: string, target: string, at: Date): string {
    return this.urlOf("click", [messageId, secondsOf(at), target]);
  }

  /**
   * Whether a URL is this service's own (an unsubscribe link, a tracking link): wrapping it
   * would only send the reader through us twice, and a link scanner's click on it would
   * count as the reader's.
   */
  isOwn(url: string): boolean {
    return url.startsWith(this.apiBase);
  }

  /** What a token of the `kind` path names; undefined when it was not made by us, was changed, or is not of that kind. */
  read(kind: TrackingKind, token: string): TrackedLink | undefined {
    const value = this.tokens.open(PURPOSE_OF[kind], token);
    if (!Array.isArray(value)) return undefined;
    const [messageId, seconds, target, ...rest] = value as unknown[];
    if (typeof messageId !== "string" || !isUuid(messageId) || !Number.isInteger(seconds)) return undefined;
    const madeAt = new Date((seconds as number) * 1000);
    if (kind === "open") return target === undefined ? { kind, messageId, madeAt } : undefined;
    if (typeof target !== "string" || rest.length > 0 || !/^https?:\/\//i.test(target)) return undefined;
    return { kind, messageId, madeAt, target };
  }

  private urlOf(kind: TrackingKind, value: unknown[]): string {
    return `${this.apiBase}t/${PATH_OF[kind]}/${this.tokens.seal(PURPOSE_OF[kind], value)}`;
  }
}

function secondsOf(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}
