import type {
  ChangedInboxMessage,
  InboxChange,
  InboxFilter,
  InboxMessage,
  NewInboxMessage,
} from "./inbox.ts";

/** Where inboxes are kept. Every method acts on one user's inbox only. */
export interface InboxStore {
  /**
   * Stores a message under the user's next seq. Storing a message id that is already there
   * stores nothing and answers the message as it was first stored.
   */
  append(message: NewInboxMessage): Promise<InboxMessage>;
  /** Messages after `seq`, oldest first, at most `limit` of them: what a reconnecting client missed. */
  after(userId: string, seq: number, limit: number): Promise<InboxMessage[]>;
  /** Newest first, with seq below `beforeSeq` when given. */
  list(
    userId: string,
    filter: InboxFilter,
    page: { beforeSeq?: number; limit: number },
  ): Promise<InboxMessage[]>;
  /** Messages neither read nor archived, and the highest seq stored (0 when none). */
  counts(userId: string): Promise<{ unread: number; headSeq: number }>;
  /** Applies `change` to the messages named (every unread one for "all"); answers those it changed. */
  mark(userId: string, seqs: readonly number[] | "all", change: InboxChange): Promise<ChangedInboxMessage[]>;
  /** Notes that a client holds every message up to `seq`; answers those not noted before. */
  acknowledge(userId: string, upToSeq: number): Promise<ChangedInboxMessage[]>;
}
