import type { Caller } from "../core/caller.ts";
import type { Authenticator } from "./auth/authenticator.ts";
import type { HealthMonitor, HealthReport } from "./health/health-monitor.ts";
import { writeJson, writeText } from "./http-json.ts";
import { headersOf, type Request, type Response } from "./http-servers.ts";
import type { Metrics } from "./metrics.ts";

export interface OpsOptions {
  /** Everyone sees each dependency's state and reason at /readyz (READYZ_DETAILS). */
  readyzDetails: boolean;
  /** Who calls, so an admin sees the details even when they are off for everyone else. */
  authenticate?: Authenticator;
  /**
   * The breakers of this process's dispatcher, shown with the details. A provider that is
   * down does not make the process unready: its messages wait and the others still go out.
   */
  providerStates?: () => { provider: string; state: string }[];
}

/**
 * Liveness, readiness and Prometheus metrics, served by every role on its HTTP port.
 * Returns false when the path is not one of them.
 */
export function createOpsEndpoints(monitor: HealthMonitor, metrics: Metrics, options: OpsOptions) {
  // A load balancer needs serving or not; why a dependency is down (hosts, ports, driver
  // messages) is for operators only.
  async function showsDetails(request: Request): Promise<boolean> {
    if (options.readyzDetails) return true;
    if (!options.authenticate) return false;
    const caller: Caller | undefined = await options.authenticate(headersOf(request)).catch(() => undefined);
    return caller?.roles.includes("admin") ?? false;
  }

  return async function serveOps(request: Request, response: Response): Promise<boolean> {
    const path = (request.url ?? "/").split("?", 1)[0];
    if (request.method !== "GET" && request.method !== "HEAD") return false;
    switch (path) {
      case "/healthz":
        writeJson(response, 200, { status: "alive" });
        return true;
      case "/readyz": {
        const report = await monitor.report();
        const status = report.overall === "serving" ? 200 : 503;
        if (!(await showsDetails(request))) {
          writeJson(response, status, { status: report.overall });
        } else {
          writeJson(response, status, {
            status: report.overall,
            dependencies: detailsOf(report),
            ...(options.providerStates
              ? {
                  providers: Object.fromEntries(
                    options.providerStates().map(({ provider, state }) => [provider, { breaker: state }]),
                  ),
                }
              : {}),
          });
        }
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

function detailsOf(report: HealthReport) {
  return Object.fromEntries(
    [...report.dependencies].map(([name, result]) => [
      name,
      result.reason ? { state: result.state, reason: result.reason } : { state: result.state },
    ]),
  );
}
