import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { InboxChange, InboxManager } from "../../core/inbox/index.ts";
import {
  GetUnreadCountResponseSchema,
  InboxChangeResponseSchema,
  type InboxService,
  ListInboxResponseSchema,
} from "../../gen/platform/notification/v1/inbox_service_pb.ts";
import { inboxFilterOf, inboxMessage, inboxSeqsOf } from "../../mappers/index.ts";

/**
 * InboxService over the inbox manager: each method maps the request, calls core, maps the
 * answer. Whose inbox a caller may touch is the authorization interceptor's (owner_field).
 */
export function inboxService(inbox: InboxManager): ServiceImpl<typeof InboxService> {
  const change = async (userId: string, seqs: readonly bigint[] | "all", to: InboxChange) =>
    create(
      InboxChangeResponseSchema,
      await inbox.mark(userId, seqs === "all" ? "all" : inboxSeqsOf(seqs), to),
    );
  return {
    async listInbox(request) {
      const page = await inbox.list(
        request.userId,
        inboxFilterOf(request.filter),
        request.pageSize,
        request.pageToken,
      );
      return create(ListInboxResponseSchema, {
        messages: page.messages.map(inboxMessage),
        nextPageToken: page.nextPageToken,
      });
    },
    async getUnreadCount(request) {
      const { unread, headSeq } = await inbox.counts(request.userId);
      return create(GetUnreadCountResponseSchema, { unread, headSeq: BigInt(headSeq) });
    },
    markRead: (request) => change(request.userId, request.seqs, "read"),
    markUnread: (request) => change(request.userId, request.seqs, "unread"),
    markAllRead: (request) => change(request.userId, "all", "read"),
    archive: (request) => change(request.userId, request.seqs, "archived"),
  };
}
