export {
  type Delivery,
  expandDeliveries,
  type MissingAddress,
  usersWithStoredDevices,
} from "./deliveries.ts";
export type { DeliveryClaim, DeliveryClaims, DeliveryKey } from "./delivery-claims.ts";
export type { DispatchJob, DispatchQueue } from "./dispatch-job.ts";
export { EarlyReports, type EarlyReportsDeps } from "./early-reports.ts";
export type { CampaignMessageCounts, FrequencyCap } from "./frequency-cap.ts";
export type {
  AwaitingReport,
  FailedAttempts,
  MessageLog,
  NewMessage,
  ReportedMessage,
  StatusChange,
  WaitingEnd,
} from "./message-log.ts";
export type { LoggedMessage, MessageFilter, MessagePage, MessageQueries } from "./message-queries.ts";
export { MessageReader } from "./message-reader.ts";
export {
  type InitialStatus,
  MESSAGE_STATUSES,
  type MessageStatus,
  statusesBefore,
} from "./message-status.ts";
export type { CommittedEvents, Outbox, OutboxEvent, OutboxFeed } from "./outbox.ts";
export { normalizePhone } from "./phone-number.ts";
export {
  addressOf,
  burstOf,
  type DeliveryOutcome,
  type Destination,
  type OutgoingMessage,
  type Provider,
  type PushOptions,
  type SendRateLimiter,
} from "./provider.ts";
export {
  type FeedbackOutcome,
  type GoneDestination,
  ProviderFeedback,
  type ProviderFeedbackDeps,
} from "./provider-feedback.ts";
export type { ProviderReport, ReportedMessageRef } from "./provider-report.ts";
export { maskRecipient, recipientView } from "./recipient-view.ts";
export type { DueSends, Schedule } from "./schedule.ts";
export {
  type AcceptedMessage,
  type RejectReason,
  rejectionError,
  SendOrchestrator,
  type SendOrchestratorDeps,
  type SendVerdict,
} from "./send-orchestrator.ts";
export type { SendProgress, SendProgressQueries } from "./send-progress.ts";
export type { DeviceAddress, Priority, Recipient, SendRequest } from "./send-request.ts";
export type { MessageStatusEvent, StatusEventEncoder } from "./status-event.ts";
export type { FreshDeliveries, SendTransaction, UnitOfWork } from "./unit-of-work.ts";
