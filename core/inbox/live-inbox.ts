import type { InboxEvent } from "./inbox.ts";

/** Tells every gateway instance what happened in an inbox, so the user's open connections hear it. */
export interface LiveInboxPublisher {
  publish(event: InboxEvent): Promise<void>;
}

/**
 * What a gateway instance hears. Delivery is at most once: while the feed was interrupted,
 * events may have been missed, so whoever listens catches up from the store when it resumes.
 */
export interface LiveInboxFeed {
  /** Hears the events of one user's inbox from the moment the returned promise resolves. */
  listen(userId: string, listener: (event: InboxEvent) => void): Promise<() => void>;
  /** Called after the feed was interrupted and is back. */
  onResumed(listener: () => void): void;
  close(): Promise<void>;
}
