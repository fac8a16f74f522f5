import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import {
  type Health,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthListResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.ts";
import { sleep } from "../sleep.ts";
import type { HealthMonitor, HealthReport, HealthState } from "./health-monitor.ts";

const SERVING_STATUS: Record<HealthState, ServingStatus> = {
  serving: ServingStatus.SERVING,
  not_serving: ServingStatus.NOT_SERVING,
};

/** The status of `service` in a report: "" is the whole service, otherwise a dependency. */
function statusIn(report: HealthReport, service: string): ServingStatus {
  if (service === "") return SERVING_STATUS[report.overall];
  const dependency = report.dependencies.get(service);
  return dependency ? SERVING_STATUS[dependency.state] : ServingStatus.SERVICE_UNKNOWN;
}

function response(status: ServingStatus): HealthCheckResponse {
  return create(HealthCheckResponseSchema, { status });
}

export function healthService(monitor: HealthMonitor, watchIntervalMs: number): ServiceImpl<typeof Health> {
  return {
    async check(request) {
      const status = statusIn(await monitor.report(), request.service);
      if (status === ServingStatus.SERVICE_UNKNOWN) {
        throw new DomainError(ErrorCatalog.notFound, `unknown service "${request.service}"`, {
          parameter: "service",
        });
      }
      return response(status);
    },

    async list() {
      const report = await monitor.report();
      const statuses: Record<string, HealthCheckResponse> = { "": response(SERVING_STATUS[report.overall]) };
      for (const name of report.dependencies.keys()) statuses[name] = response(statusIn(report, name));
      return create(HealthListResponseSchema, { statuses });
    },

    async *watch(request, context) {
      let last: ServingStatus | undefined;
      while (!context.signal.aborted) {
        const status = statusIn(await monitor.report(), request.service);
        if (status !== last) {
          last = status;
          yield response(status);
        }
        await sleep(watchIntervalMs, context.signal);
      }
    },
  };
}
