import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Caller } from "../core/caller.ts";
import {
  type LoggedMessage,
  type MessageFilter,
  type MessageStatus,
  type Priority,
  recipientView,
} from "../core/sending/index.ts";
import {
  type ListMessagesRequest,
  type Message,
  MessagePriority,
  MessageSchema,
  MessageStatus as MessageStatusMessage,
} from "../gen/platform/notification/v1/message_service_pb.ts";
import { channelOf, protoChannelOf } from "./channels.ts";

const PROTO_STATUS_OF: Record<MessageStatus, MessageStatusMessage> = {
  scheduled: MessageStatusMessage.SCHEDULED,
  queued: MessageStatusMessage.QUEUED,
  sent: MessageStatusMessage.SENT,
  delivered: MessageStatusMessage.DELIVERED,
  opened: MessageStatusMessage.OPENED,
  clicked: MessageStatusMessage.CLICKED,
  failed: MessageStatusMessage.FAILED,
  expired: MessageStatusMessage.EXPIRED,
  suppressed: MessageStatusMessage.SUPPRESSED,
  cancelled: MessageStatusMessage.CANCELLED,
};

const STATUS_OF = new Map(
  Object.entries(PROTO_STATUS_OF).map(([status, proto]) => [proto, status as MessageStatus]),
);

const PROTO_PRIORITY_OF: Record<Priority, MessagePriority> = {
  high: MessagePriority.HIGH,
  normal: MessagePriority.NORMAL,
  low: MessagePriority.LOW,
};

/** The filter of a validated request; unset fields and UNSPECIFIED enums filter nothing. */
export function messageFilterOf(request: ListMessagesRequest, pageSize: number): MessageFilter {
  const channel = channelOf(request.channel);
  const status = STATUS_OF.get(request.status);
  return {
    ...(request.userId ? { userId: request.userId } : {}),
    ...(request.requestId ? { requestId: request.requestId } : {}),
    ...(request.correlationId ? { correlationId: request.correlationId } : {}),
    ...(status ? { status } : {}),
    ...(channel ? { channel } : {}),
    ...(request.requestedFrom ? { requestedFrom: timestampDate(request.requestedFrom) } : {}),
    ...(request.requestedTo ? { requestedTo: timestampDate(request.requestedTo) } : {}),
    ...(request.recipient ? { recipient: request.recipient } : {}),
    ...(request.pageToken ? { pageToken: request.pageToken } : {}),
    pageSize,
  };
}

/** The message as `caller` may see it: its recipient masked unless the caller sees it in full. */
export function messageMessage(message: LoggedMessage, caller: Caller): Message {
  const view = recipientView(caller, message.userId);
  return create(MessageSchema, {
    id: message.id,
    requestId: message.requestId,
    correlationId: message.correlationId,
    userId: message.userId,
    templateId: message.templateId,
    templateName: message.templateName,
    templateVersion: message.templateVersion,
    campaignId: message.campaignId,
    campaignVariant: message.campaignVariant,
    channel: protoChannelOf(message.channel),
    recipient: message.recipient === null ? "" : view(message.channel, message.recipient),
    priority: PROTO_PRIORITY_OF[message.priority],
    status: PROTO_STATUS_OF[message.status],
    statusDetails: message.statusDetails,
    providerName: message.providerName,
    attempts: message.attempts,
    lastError: message.lastError,
    requestedTime: timestampFromDate(message.requestedAt),
    sentTime: timestampOf(message.sentAt),
    deliveredTime: timestampOf(message.deliveredAt),
    openedTime: timestampOf(message.openedAt),
    clickedTime: timestampOf(message.clickedAt),
    updateTime: timestampFromDate(message.updatedAt),
    opens: message.opens,
    clicks: message.clicks,
    machineOpens: message.machineOpens,
    machineClicks: message.machineClicks,
  });
}

function timestampOf(at: Date | null): Timestamp | undefined {
  return at ? timestampFromDate(at) : undefined;
}
