// The platform's Analytics Service, as this service reads it: audience segments over
// platform.analytics.v1 (proto/platform/analytics/v1/segments.proto).
export { AnalyticsAudience } from "./analytics-audience.ts";
export {
  type AnalyticsCall,
  type AnalyticsClientOptions,
  createAnalyticsClient,
} from "./analytics-client.ts";
