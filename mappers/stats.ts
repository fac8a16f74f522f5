import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type {
  DeliveryStatsCount,
  DeliveryStatsDimension,
  DeliveryStatsQuery,
  DeliveryStatus,
  TimeBucket,
} from "../core/delivery-stats/index.ts";
import { DomainError, ErrorCatalog } from "../core/errors.ts";
import {
  type DeliveryStatsGroup,
  DeliveryStatsGroupSchema,
  DeliveryStatus as DeliveryStatusMessage,
  DeliveryStatsDimension as DimensionMessage,
  type GetDeliveryStatsRequest,
  TimeBucket as TimeBucketMessage,
} from "../gen/platform/notification/v1/stats_service_pb.ts";
import { channelOf, protoChannelOf } from "./channels.ts";

const PROTO_STATUS_OF: Record<DeliveryStatus, DeliveryStatusMessage> = {
  queued: DeliveryStatusMessage.QUEUED,
  sent: DeliveryStatusMessage.SENT,
  delivered: DeliveryStatusMessage.DELIVERED,
  opened: DeliveryStatusMessage.OPENED,
  clicked: DeliveryStatusMessage.CLICKED,
  failed: DeliveryStatusMessage.FAILED,
  expired: DeliveryStatusMessage.EXPIRED,
  suppressed: DeliveryStatusMessage.SUPPRESSED,
};

const STATUS_OF = new Map(
  Object.entries(PROTO_STATUS_OF).map(([status, proto]) => [proto, status as DeliveryStatus]),
);

const DIMENSION_OF: Record<
  Exclude<DimensionMessage, DimensionMessage.UNSPECIFIED>,
  DeliveryStatsDimension
> = {
  [DimensionMessage.STATUS]: "status",
  [DimensionMessage.CHANNEL]: "channel",
  [DimensionMessage.TEMPLATE_NAME]: "templateName",
  [DimensionMessage.TEMPLATE_VERSION]: "templateVersion",
  [DimensionMessage.PROVIDER]: "provider",
  [DimensionMessage.CAMPAIGN_ID]: "campaignId",
};

export const BUCKET_OF: Record<Exclude<TimeBucketMessage, TimeBucketMessage.UNSPECIFIED>, TimeBucket> = {
  [TimeBucketMessage.MINUTE]: "minute",
  [TimeBucketMessage.HOUR]: "hour",
  [TimeBucketMessage.DAY]: "day",
  [TimeBucketMessage.WEEK]: "week",
  [TimeBucketMessage.MONTH]: "month",
};

// Validation has refused UNSPECIFIED and undefined numbers in the lists, and missing times,
// before a handler runs; these only keep the types honest.
function defined<T>(value: T | undefined, field: string): T {
  if (value === undefined) {
    throw new DomainError(ErrorCatalog.validation, `${field}: value is not allowed`, {
      pointer: `/${field}`,
    });
  }
  return value;
}

function timeOf(timestamp: Timestamp | undefined, field: string): Date {
  return timestampDate(defined(timestamp, field));
}

export function deliveryStatsQueryOf(request: GetDeliveryStatsRequest): DeliveryStatsQuery {
  const bucket = request.bucket === TimeBucketMessage.UNSPECIFIED ? undefined : BUCKET_OF[request.bucket];
  return {
    from: timeOf(request.startTime, "start_time"),
    to: timeOf(request.endTime, "end_time"),
    ...(bucket ? { bucket } : {}),
    groupBy: request.groupBy.map((dimension) =>
      defined(dimension === DimensionMessage.UNSPECIFIED ? undefined : DIMENSION_OF[dimension], "group_by"),
    ),
    channels: request.channels.map((channel) => defined(channelOf(channel), "channels")),
    statuses: request.statuses.map((status) => defined(STATUS_OF.get(status), "statuses")),
    templateNames: request.templateNames,
    campaignIds: request.campaignIds,
  };
}

export function deliveryStatsGroupMessage(count: DeliveryStatsCount): DeliveryStatsGroup {
  return create(DeliveryStatsGroupSchema, {
    ...(count.bucketStart ? { bucketStartTime: timestampFromDate(count.bucketStart) } : {}),
    ...(count.status ? { status: PROTO_STATUS_OF[count.status] } : {}),
    ...(count.channel ? { channel: protoChannelOf(count.channel) } : {}),
    templateName: count.templateName ?? "",
    templateVersion: count.templateVersion ?? 0,
    provider: count.provider ?? "",
    campaignId: count.campaignId ?? "",
    messages: BigInt(count.messages),
  });
}
