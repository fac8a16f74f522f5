export type { DeliveryClaim, DeliveryClaims, DeliveryKey } from "./delivery-claims.ts";
export type { MessageLog, NewMessage, StatusChange } from "./message-log.ts";
export type { LoggedMessage, MessageFilter, MessagePage, MessageQueries } from "./message-queries.ts";
export { MessageReader } from "./message-reader.ts";
export {
  type InitialStatus,
  MESSAGE_STATUSES,
  type MessageStatus,
  statusesBefore,
} from "./message-status.ts";
export type { Outbox, OutboxEvent, OutboxFeed } from "./outbox.ts";
export type { DeliveryOutcome, Destination, OutgoingMessage, Provider } from "./provider.ts";
export { maskRecipient, recipientView } from "./recipient-view.ts";
export type { DueSends, Schedule } from "./schedule.ts";
export type { DeviceAddress, Priority, Recipient, SendRequest } from "./send-request.ts";
export type { SendTransaction, UnitOfWork } from "./unit-of-work.ts";
