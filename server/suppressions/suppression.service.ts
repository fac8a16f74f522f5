import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { SuppressionManager } from "../../core/suppressions/index.ts";
import {
  AddSuppressionResponseSchema,
  ListSuppressionsResponseSchema,
  type SuppressionService,
} from "../../gen/platform/notification/v1/suppression_service_pb.ts";
import { channelOf, suppressionMessage, suppressionReasonOf } from "../../mappers/index.ts";
import { callerKey } from "../api/caller-context.ts";

const DEFAULT_PAGE_SIZE = 50;

/** SuppressionService over the suppression manager: each method maps the request, calls core, maps the answer. */
export function suppressionService(suppressions: SuppressionManager): ServiceImpl<typeof SuppressionService> {
  return {
    async listSuppressions(request, context) {
      const caller = context.values.get(callerKey);
      const channel = channelOf(request.channel);
      const reason = suppressionReasonOf(request.reason);
      const page = await suppressions.list({
        ...(channel ? { channel } : {}),
        ...(reason ? { reason } : {}),
        ...(request.recipient ? { recipient: request.recipient } : {}),
        ...(request.pageToken ? { cursor: request.pageToken } : {}),
        limit: request.pageSize || DEFAULT_PAGE_SIZE,
      });
      return create(ListSuppressionsResponseSchema, {
        suppressions: page.suppressions.map((each) => suppressionMessage(each, caller)),
        nextPageToken: page.nextCursor ?? "",
      });
    },
    async addSuppression(request, context) {
      const caller = context.values.get(callerKey);
      const added = await suppressions.add(
        {
          // Validation admits email and SMS only.
          channel: channelOf(request.channel) ?? "email",
          recipient: request.recipient,
          reason: "manual",
          ...(request.details ? { details: request.details } : {}),
        },
        caller,
      );
      return create(AddSuppressionResponseSchema, { added });
    },
    async liftSuppression(request, context) {
      const caller = context.values.get(callerKey);
      return suppressionMessage(await suppressions.lift(request.id, caller), caller);
    },
  };
}
