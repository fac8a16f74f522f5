import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import {
  type HitOutcome,
  TRACKING_PATH,
  type TrackedLink,
  type TrackingHits,
  type TrackingKind,
} from "../../core/tracking/index.ts";
import { writeRestError } from "../api/error-mapping.ts";
import type { Request, Response } from "../http-servers.ts";

// A transparent 1×1 GIF, the smallest image every mail client shows.
const PIXEL = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");
const KIND_OF: Record<string, TrackingKind> = { o: "open", c: "click" };

export interface TrackingMetrics {
  served(kind: TrackingKind, outcome: HitOutcome["outcome"] | "failed"): void;
  refused(reason: "invalid_token" | "method"): void;
}

/**
 * `GET /api/v1/notifications/t/o/{token}`, the open pixel, and `…/t/c/{token}`, a click's
 * redirect to its link (TrackingHits counts them). A token we did not make, or one changed,
 * is refused with 404, never redirected: the only targets are those signed into tokens from
 * the links of their own message. A hit that cannot be counted (the database down) is still
 * served, since the reader must get the image and reach the link; it is logged and counted.
 */
export function createTrackingEndpoint(deps: {
  hits: Pick<TrackingHits, "read" | "record">;
  metrics: TrackingMetrics;
  logger: Logger;
}) {
  return async function serveTracking(request: Request, response: Response): Promise<boolean> {
    const path = request.url?.split("?", 1)[0] ?? "";
    if (!path.startsWith(TRACKING_PATH)) return false;
    const [kindPath = "", token = "", ...rest] = path.slice(TRACKING_PATH.length).split("/");
    const kind = KIND_OF[kindPath];
    const link = kind && rest.length === 0 ? deps.hits.read(kind, token) : undefined;
    if (!kind || !link) {
      deps.metrics.refused("invalid_token");
      writeRestError(
        response,
        new DomainError(
          ErrorCatalog.notFound,
          "this tracking link was not made by this service, or was changed",
        ),
      );
      return true;
    }
    // Link scanners ask with HEAD: answered like a GET, and counted as a machine's.
    if (request.method !== "GET" && request.method !== "HEAD") {
      deps.metrics.refused("method");
      response.setHeader("allow", "GET, HEAD");
      writeRestError(
        response,
        new DomainError(ErrorCatalog.methodNotAllowed, `${request.method} is not served here`),
      );
      return true;
    }
    await record(link, request);
    // Every hit must reach us: no cache on the way may answer for us.
    response.setHeader("cache-control", "no-store, no-cache, must-revalidate, max-age=0");
    response.setHeader("pragma", "no-cache");
    if (link.kind === "open") {
      response.statusCode = 200;
      response.setHeader("content-type", "image/gif");
      response.setHeader("content-length", PIXEL.length);
      response.end(PIXEL);
    } else {
      response.statusCode = 302;
      response.setHeader("location", link.target);
      // The target learns nothing of the message from our address.
      response.setHeader("referrer-policy", "no-referrer");
      response.setHeader("content-length", 0);
      response.end();
    }
    return true;
  };

  async function record(link: TrackedLink, request: Request): Promise<void> {
    const client = {
      method: request.method ?? "GET",
      userAgent: String(request.headers["user-agent"] ?? ""),
    };
    try {
      const outcome = await deps.hits.record(link, client);
      deps.metrics.served(link.kind, outcome.outcome);
      deps.logger.debug({ messageId: link.messageId, kind: link.kind, ...outcome }, "tracking hit");
    } catch (error) {
      deps.metrics.served(link.kind, "failed");
      deps.logger.error(
        { err: error, messageId: link.messageId, kind: link.kind },
        "a tracking hit was not recorded",
      );
    }
  }
}
