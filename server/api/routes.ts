import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import type { TemplateCatalog } from "../../core/templates/index.ts";
import { Health } from "../../gen/grpc/health/v1/health_pb.ts";
import { TemplateService } from "../../gen/platform/notification/v1/template_service_pb.ts";
import { healthService } from "../health/health.service.ts";
import type { HealthMonitor } from "../health/health-monitor.ts";
import { registerReflection } from "../reflection/reflection.service.ts";
import { templateService } from "../templates/template.service.ts";

export interface ApiServices {
  monitor: HealthMonitor;
  healthWatchIntervalMs: number;
  templates: TemplateCatalog;
}

/** Every RPC service we serve, on every surface; the REST routes come from the same list. */
export const SERVED_SERVICES: DescService[] = [Health, TemplateService];

export function registerRoutes(router: ConnectRouter, services: ApiServices): void {
  router.service(Health, healthService(services.monitor, services.healthWatchIntervalMs));
  router.service(TemplateService, templateService(services.templates));
  // Public, and gRPC only: not in SERVED_SERVICES, it has no REST routes. Lists every service here.
  registerReflection(router);
}
