import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { InboxFilter, InboxMessage } from "../core/inbox/index.ts";
import {
  type InboxMessage as InboxMessageMessage,
  InboxMessageSchema,
  InboxFilter as ProtoInboxFilter,
} from "../gen/platform/notification/v1/inbox_service_pb.ts";

// Validation admits only defined values; UNSPECIFIED is the default list.
const FILTER_OF: Record<ProtoInboxFilter, InboxFilter> = {
  [ProtoInboxFilter.UNSPECIFIED]: "all",
  [ProtoInboxFilter.UNREAD]: "unread",
  [ProtoInboxFilter.READ]: "read",
  [ProtoInboxFilter.ARCHIVED]: "archived",
};

export function inboxFilterOf(filter: ProtoInboxFilter): InboxFilter {
  return FILTER_OF[filter];
}

/**
 * The seqs a request names, as the domain counts them. A seq above 2^53 names no message
 * (a user's seqs count up from 1) and would not survive the trip to a number, so it is
 * left out: like any other seq nobody has, it changes nothing.
 */
export function inboxSeqsOf(seqs: readonly bigint[]): number[] {
  return seqs.filter((seq) => seq <= BigInt(Number.MAX_SAFE_INTEGER)).map(Number);
}

export function inboxMessage(message: InboxMessage): InboxMessageMessage {
  return create(InboxMessageSchema, {
    seq: BigInt(message.seq),
    messageId: message.messageId,
    notificationType: message.notificationType,
    title: message.title,
    body: message.body,
    createTime: timestampFromDate(message.createdAt),
    deliverTime: timestampOf(message.deliveredAt),
    readTime: timestampOf(message.readAt),
    archiveTime: timestampOf(message.archivedAt),
  });
}

function timestampOf(at: Date | undefined): Timestamp | undefined {
  return at ? timestampFromDate(at) : undefined;
}
