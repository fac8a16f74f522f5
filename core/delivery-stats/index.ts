export type { DeliveryStatsRow, DeliveryStatsSink, DeliveryStatus } from "./delivery-stats.ts";
