import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { MessageReader } from "../../core/sending/index.ts";
import {
  ListMessagesResponseSchema,
  type MessageService,
} from "../../gen/platform/notification/v1/message_service_pb.ts";
import { messageFilterOf, messageMessage } from "../../mappers/index.ts";
import { callerKey } from "../api/caller-context.ts";

const DEFAULT_PAGE_SIZE = 50;

/** MessageService over the message reader: each method maps the request, calls core, maps the answer. */
export function messageService(messages: MessageReader): ServiceImpl<typeof MessageService> {
  return {
    async getMessage(request, context) {
      const caller = context.values.get(callerKey);
      return messageMessage(await messages.get(request.messageId, caller), caller);
    },
    async listMessages(request, context) {
      const caller = context.values.get(callerKey);
      const page = await messages.list(
        messageFilterOf(request, request.pageSize || DEFAULT_PAGE_SIZE),
        caller,
      );
      return create(ListMessagesResponseSchema, {
        messages: page.messages.map((message) => messageMessage(message, caller)),
        nextPageToken: page.nextPageToken,
      });
    },
  };
}
