import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { Health } from "../../gen/grpc/health/v1/health_pb.ts";
import { healthService } from "../health/health.service.ts";
import type { HealthMonitor } from "../health/health-monitor.ts";

export interface ApiServices {
  monitor: HealthMonitor;
  healthWatchIntervalMs: number;
}

/** Every RPC service we serve, on every surface; the REST routes come from the same list. */
export const SERVED_SERVICES: DescService[] = [Health];

export function registerRoutes(router: ConnectRouter, services: ApiServices): void {
  router.service(Health, healthService(services.monitor, services.healthWatchIntervalMs));
}
