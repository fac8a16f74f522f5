import type { ProviderFeedback } from "../sending/index.ts";
import { type MachineReason, machineReason, type TrackingClient } from "./machine-hits.ts";
import type { TrackedMessages } from "./tracked-messages.ts";
import type { TrackedLink, TrackingKind, TrackingLinks } from "./tracking-links.ts";

export interface TrackingHitsDeps {
  links: Pick<TrackingLinks, "read">;
  messages: TrackedMessages;
  feedback: Pick<ProviderFeedback, "apply">;
  /** How long after its message was queued a tracking link's hits count, in milliseconds. */
  countingWindowMs: number;
  now?: () => Date;
}

/**
 * What became of one hit on a link we made. Whatever it is, the pixel is served and the
 * redirect followed: a reader's old email keeps working.
 */
export type HitOutcome =
  /** A reader's: counted, and the message's first open or click becomes its status. */
  | { outcome: "human" }
  /** A privacy proxy's or a link scanner's: counted apart, the status left as it is. */
  | { outcome: "machine"; reason: MachineReason }
  /** Older than the counting window: not counted. */
  | { outcome: "expired" }
  /** Its message is no longer in the log: not counted. */
  | { outcome: "unknown_message" };

/**
 * Opens and clicks of tracked emails, as the open pixel and the click redirects hear them.
 * A reader's every open and click is counted (opens, clicks), the first of each also
 * timed, and that first becomes the message's `opened` or `clicked` status through the
 * provider feedback path, so that it reaches the message log, ClickHouse and the status
 * events like every status; a machine's is counted apart and changes no status.
 *
 * What "replay" means here: a token is signed (changed, it is refused), names one message
 * and, for a click, one target, so it can be replayed only as itself, counting for its own
 * message and redirecting to that message's link. Replaying it counts again, as a reader
 * opening the email twice does; that is why clicks are counted first and total. Its hits
 * stop counting once the token is older than the counting window, so a link copied out of
 * an old email cannot inflate today's figures. The status a first hit sets is recorded
 * once, whatever comes again (message-status.ts).
 */
export class TrackingHits {
  private readonly now: () => Date;

  constructor(private readonly deps: TrackingHitsDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The link a token of the `kind` path names; undefined when we did not make it, or it was changed: refused. */
  read(kind: TrackingKind, token: string): TrackedLink | undefined {
    return this.deps.links.read(kind, token);
  }

  async record(link: TrackedLink, client: TrackingClient): Promise<HitOutcome> {
    const { kind, messageId } = link;
    const at = this.now();
    if (at.getTime() - link.madeAt.getTime() > this.deps.countingWindowMs) return { outcome: "expired" };
    const message = await this.deps.messages.find(messageId);
    if (!message) return { outcome: "unknown_message" };
    const sinceSentMs = message.sentAt
      ? at.getTime() - message.sentAt.getTime()
      : message.status === "queued"
        ? 0
        : undefined;
    const reason = machineReason(kind, client, sinceSentMs);
    await this.deps.messages.count({ messageId, kind, machine: reason !== undefined, at });
    if (reason) return { outcome: "machine", reason };
    if (message.provider) {
      await this.deps.feedback.apply([
        { provider: message.provider, at, messageId, kind: kind === "open" ? "opened" : "clicked" },
      ]);
    }
    return { outcome: "human" };
  }
}
