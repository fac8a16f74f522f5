import type { DescMessage } from "@bufbuild/protobuf";
import { CampaignStatusChangedSchema } from "../gen/platform/notification/events/v1/campaign_status_changed_pb.ts";
import { MessageStatusUpdatedSchema } from "../gen/platform/notification/events/v1/message_status_updated_pb.ts";
import { SendRequestSchema } from "../gen/platform/notification/events/v1/send_request_pb.ts";

export interface EventType {
  /** The CloudEvents `type`. */
  type: string;
  /** The proto message of its `data`. */
  message: DescMessage;
}

/** The events we consume and produce (specification §5), each with the message of its data. */
export const EVENT_TYPES: readonly EventType[] = [
  { type: "com.platform.notification.send.request.v1", message: SendRequestSchema },
  { type: "com.platform.notification.message.status.updated.v1", message: MessageStatusUpdatedSchema },
  { type: "com.platform.notification.campaign.status.changed.v1", message: CampaignStatusChangedSchema },
];
