import type { HealthMonitor } from "./health/health-monitor.ts";
import { writeJson, writeText } from "./http-json.ts";
import type { Request, Response } from "./http-servers.ts";
import type { Metrics } from "./metrics.ts";

/**
 * Liveness, readiness and Prometheus metrics, served by every role on its HTTP port.
 * Returns false when the path is not one of them.
 */
export function createOpsEndpoints(monitor: HealthMonitor, metrics: Metrics) {
  return async function serveOps(request: Request, response: Response): Promise<boolean> {
    const path = (request.url ?? "/").split("?", 1)[0];
    if (request.method !== "GET" && request.method !== "HEAD") return false;
    switch (path) {
      case "/healthz":
        writeJson(response, 200, { status: "alive" });
        return true;
      case "/readyz": {
        const report = await monitor.report();
        const dependencies = Object.fromEntries(
          [...report.dependencies].map(([name, result]) => [
            name,
            result.reason ? result : { state: result.state },
          ]),
        );
        writeJson(response, report.overall === "serving" ? 200 : 503, {
          status: report.overall,
          dependencies,
        });
        return true;
      }
      case "/metrics": {
        writeText(response, 200, metrics.registry.contentType, await metrics.registry.metrics());
        return true;
      }
      default:
        return false;
    }
  };
}
