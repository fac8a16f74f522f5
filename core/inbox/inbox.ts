/** One in-app notification in a user's inbox. */
export interface InboxMessage {
  userId: string;
  /** The user's own sequence: 1, 2, 3… in the order their messages were stored, none skipped. */
  seq: number;
  /** Its id in the message log. */
  messageId: string;
  /** The template's name: what kind of notification it is. */
  notificationType: string;
  title: string;
  body: string;
  createdAt: Date;
  /** When a client acknowledged it. */
  deliveredAt?: Date;
  readAt?: Date;
  archivedAt?: Date;
}

export type NewInboxMessage = Pick<
  InboxMessage,
  "userId" | "messageId" | "notificationType" | "title" | "body"
>;

/** Which messages a list shows: `all` is every message not archived. */
export type InboxFilter = "all" | "unread" | "read" | "archived";

/** What a user can do to messages of their inbox. */
export type InboxChange = "read" | "unread" | "archived";

/** A message whose state changed, as the change found it. */
export interface ChangedInboxMessage {
  seq: number;
  messageId: string;
}

/** What every gateway instance hears about a user's inbox, to tell that user's open connections. */
export type InboxEvent =
  | { kind: "message"; message: InboxMessage }
  | { kind: "changed"; userId: string; seqs: number[]; change: InboxChange; unread: number };

/** The provider of the in-app channel, as the message log names it: reports of acks and reads find messages by it. */
export const IN_APP_PROVIDER = "in-app";
