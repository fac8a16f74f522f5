import type { MessageStatus } from "../sending/index.ts";
import type { TrackingKind } from "./tracking-links.ts";

/** What tracking reads of a message before it counts a hit on it. */
export interface TrackedMessage {
  status: MessageStatus;
  /** The provider that sent it: the opened and clicked statuses are reported as that provider's. */
  provider?: string;
  /** When it was sent, or delivered where no send was recorded; absent before either. */
  sentAt?: Date;
}

/** One open or click counted on its message. */
export interface CountedHit {
  messageId: string;
  kind: TrackingKind;
  /** A privacy proxy's or a link scanner's (machine-hits.ts): counted apart from the reader's. */
  machine: boolean;
  at: Date;
}

/** The message log as tracking counts on it: every hit, the reader's first and total apart from machines'. */
export interface TrackedMessages {
  /** Undefined when no message has this id (removed since). */
  find(messageId: string): Promise<TrackedMessage | undefined>;
  /** Adds one to the hit's count; the reader's first open and first click also keep their time. */
  count(hit: CountedHit): Promise<void>;
}
