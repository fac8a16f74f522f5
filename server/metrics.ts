import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  rpcRequests: Counter<"procedure" | "surface" | "stage" | "code">;
  rpcDuration: Histogram<"procedure" | "surface" | "stage">;
  cacheLookups: Counter<"cache" | "outcome">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: "notification-service" });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    rpcRequests: new Counter({
      name: "notification_rpc_requests_total",
      help: "API calls by procedure, API surface, stage (rpc, or transcoding for REST requests refused before the RPC) and result code.",
      labelNames: ["procedure", "surface", "stage", "code"],
      registers: [registry],
    }),
    rpcDuration: new Histogram({
      name: "notification_rpc_duration_seconds",
      help: "Time to the RPC's response headers, in seconds.",
      labelNames: ["procedure", "surface", "stage"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: "notification_cache_lookups_total",
      help: "Cache lookups by cache and how each was answered: local_hit, redis_hit, miss, redis_error.",
      labelNames: ["cache", "outcome"],
      registers: [registry],
    }),
  };
}
