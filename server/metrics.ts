import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { restSurfaceKey, surfaceOf } from "./api/surface.ts";

export interface Metrics {
  registry: Registry;
  rpcRequests: Counter<"procedure" | "surface" | "code">;
  rpcDuration: Histogram<"procedure" | "surface">;
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
      help: "RPC calls by procedure, API surface and result code.",
      labelNames: ["procedure", "surface", "code"],
      registers: [registry],
    }),
    rpcDuration: new Histogram({
      name: "notification_rpc_duration_seconds",
      help: "Time to the RPC's response headers, in seconds.",
      labelNames: ["procedure", "surface"],
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

export function metricsInterceptor(metrics: Metrics): Interceptor {
  return (next) => async (request) => {
    const labels = {
      procedure: `${request.method.parent.typeName}/${request.method.name}`,
      surface: surfaceOf(request.header.get("content-type"), request.contextValues.get(restSurfaceKey)),
    };
    const stop = metrics.rpcDuration.startTimer(labels);
    try {
      const response = await next(request);
      metrics.rpcRequests.inc({ ...labels, code: "ok" });
      return response;
    } catch (error) {
      metrics.rpcRequests.inc({ ...labels, code: Code[ConnectError.from(error).code] ?? "unknown" });
      throw error;
    } finally {
      stop();
    }
  };
}
