import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import {
  rejectionError,
  type SendOrchestrator,
  type SendProgressQueries,
  type SendVerdict,
} from "../../core/sending/index.ts";
import {
  AcceptedMessageSchema,
  CancelScheduledSendResponseSchema,
  SendBulkResponseSchema,
  SendDirectResponseSchema,
  SendProgressSchema,
  type SendService,
} from "../../gen/platform/notification/v1/send_service_pb.ts";
import { sendRequestOf } from "../../mappers/index.ts";

/** SendService over the orchestrator: the same way a Kafka request goes, answered over RPC. */
export function sendService(
  orchestrator: Pick<SendOrchestrator, "accept" | "keep" | "cancel">,
  progress: SendProgressQueries,
): ServiceImpl<typeof SendService> {
  return {
    async sendDirect(request) {
      const message = request.request;
      // Required by the contract; validation ran before.
      if (!message)
        throw new DomainError(ErrorCatalog.validation, "request is required", { pointer: "/request" });
      const [verdict] = await orchestrator.accept([sendRequestOf(message, new Date())]);
      const accepted = acceptedOrThrow(verdict as SendVerdict);
      return create(SendDirectResponseSchema, {
        requestId: accepted.requestId,
        outcome: accepted.outcome,
        messages:
          accepted.outcome === "accepted"
            ? accepted.messages.map((each) =>
                create(AcceptedMessageSchema, {
                  messageId: each.messageId,
                  channel: each.channel,
                  recipientKey: each.recipientKey,
                  status: each.status,
                  reason: each.reason ?? "",
                }),
              )
            : [],
        ...(accepted.outcome === "accepted" && accepted.scheduledFor
          ? { scheduledFor: timestampFromDate(accepted.scheduledFor) }
          : {}),
      });
    },
    async sendBulk(request) {
      const verdict = acceptedOrThrow(await orchestrator.keep(sendRequestOf(request, new Date())));
      return create(SendBulkResponseSchema, { requestId: verdict.requestId, outcome: verdict.outcome });
    },
    async getSendProgress(request) {
      const found = await progress.progress(request.requestId);
      if (!found) {
        throw new DomainError(ErrorCatalog.notFound, "no send with this request id was accepted", {
          parameter: "request_id",
        });
      }
      return create(SendProgressSchema, {
        requestId: found.requestId,
        state: found.state,
        messages: BigInt(found.messages),
        byStatus: Object.fromEntries(
          Object.entries(found.byStatus).map(([status, count]) => [status, BigInt(count)]),
        ),
        ...(found.dueAt ? { dueTime: timestampFromDate(found.dueAt) } : {}),
      });
    },
    async cancelScheduledSend(request) {
      const outcome = await orchestrator.cancel(request.requestId);
      if (!outcome.cancelled) {
        throw new DomainError(
          ErrorCatalog.notFound,
          "no send with this request id waits: it was never scheduled, was released, or was cancelled before",
          { parameter: "request_id" },
        );
      }
      return create(CancelScheduledSendResponseSchema, {
        requestId: request.requestId,
        cancelledMessages: BigInt(outcome.messages),
      });
    },
  };
}

/** The verdict, unless the orchestrator refused the request: then the caller's error. */
function acceptedOrThrow(verdict: SendVerdict): Exclude<SendVerdict, { outcome: "rejected" }> {
  if (verdict.outcome === "rejected") throw rejectionError(verdict);
  return verdict;
}
