import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { DeliveryStatsReport } from "../../core/delivery-stats/index.ts";
import {
  GetDeliveryStatsResponseSchema,
  type StatsService,
} from "../../gen/platform/notification/v1/stats_service_pb.ts";
import { deliveryStatsGroupMessage, deliveryStatsQueryOf } from "../../mappers/index.ts";

/** StatsService over the delivery statistics report: maps the request, calls core, maps the answer. */
export function statsService(report: DeliveryStatsReport): ServiceImpl<typeof StatsService> {
  return {
    async getDeliveryStats(request) {
      const counts = await report.count(deliveryStatsQueryOf(request));
      return create(GetDeliveryStatsResponseSchema, { groups: counts.map(deliveryStatsGroupMessage) });
    },
  };
}
