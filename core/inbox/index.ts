export type {
  ChangedInboxMessage,
  InboxChange,
  InboxEvent,
  InboxFilter,
  InboxMessage,
  NewInboxMessage,
} from "./inbox.ts";
export { IN_APP_PROVIDER } from "./inbox.ts";
export { InboxManager, type InboxManagerDeps, type InboxPage } from "./inbox-manager.ts";
export type { InboxStore } from "./inbox-store.ts";
export type { LiveInboxFeed, LiveInboxPublisher } from "./live-inbox.ts";
