import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Caller } from "../core/caller.ts";
import { recipientView } from "../core/sending/index.ts";
import type { Suppression as DomainSuppression, SuppressionReason } from "../core/suppressions/index.ts";
import {
  SuppressionReason as ProtoReason,
  type Suppression,
  SuppressionSchema,
} from "../gen/platform/notification/v1/suppression_service_pb.ts";
import { protoChannelOf } from "./channels.ts";

const PROTO_REASON_OF: Record<SuppressionReason, ProtoReason> = {
  hard_bounce: ProtoReason.HARD_BOUNCE,
  complaint: ProtoReason.COMPLAINT,
  invalid_destination: ProtoReason.INVALID_DESTINATION,
  manual: ProtoReason.MANUAL,
};

/** The domain's reason for a proto one; UNSPECIFIED has none (no filter). */
export function suppressionReasonOf(reason: ProtoReason): SuppressionReason | undefined {
  return (Object.entries(PROTO_REASON_OF) as [SuppressionReason, ProtoReason][]).find(
    ([, proto]) => proto === reason,
  )?.[0];
}

/** A suppression as `caller` may see it: the address masked unless they are an admin. */
export function suppressionMessage(suppression: DomainSuppression, caller: Caller): Suppression {
  return create(SuppressionSchema, {
    id: suppression.id,
    channel: protoChannelOf(suppression.channel),
    recipient: recipientView(caller, "")(suppression.channel, suppression.recipient),
    reason: PROTO_REASON_OF[suppression.reason],
    details: suppression.details ?? "",
    source: suppression.source,
    messageId: suppression.messageId ?? "",
    createTime: timestampFromDate(suppression.createdAt),
  });
}
