import { setTimeout as delay } from "node:timers/promises";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import { SegmentService } from "../../gen/platform/analytics/v1/segments_pb.ts";

export interface AnalyticsClientOptions {
  /** The service's base URL, e.g. https://analytics.internal:8443. */
  url: string;
  /** The longest one attempt of a call waits for its answer. */
  timeoutMs: number;
  /** Attempts per call, the first included. */
  attempts: number;
  /** Sent as `Authorization: Bearer`, when the platform's service asks for one. */
  token?: string;
  logger: Logger;
}

// Every call is a read: these errors are the service, or the way to it, failing for now.
const TRANSIENT = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Aborted, Code.ResourceExhausted]);
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;

export type AnalyticsSegments = ReturnType<typeof createClient<typeof SegmentService>>;

/**
 * platform.analytics.v1.SegmentService over the Connect protocol (binary, HTTP/1.1), each
 * call with a deadline per attempt and retried with jittered backoff while its error is
 * transient. What cannot be answered leaves as SERVICE_UNAVAILABLE saying why and after
 * how many attempts; NOT_FOUND stays a ConnectError for the caller to read.
 */
export function createAnalyticsClient(options: AnalyticsClientOptions) {
  const bearer: Interceptor = (next) => (request) => {
    request.header.set("authorization", `Bearer ${options.token}`);
    return next(request);
  };
  const segments: AnalyticsSegments = createClient(
    SegmentService,
    createConnectTransport({
      baseUrl: options.url,
      httpVersion: "1.1",
      useBinaryFormat: true,
      interceptors: options.token ? [bearer] : [],
    }),
  );
  const log = options.logger.child({ component: "analytics-client" });

  /** `call` with the client and this attempt's deadline, retried as above. */
  return async function analyticsCall<T>(
    method: string,
    call: (segments: AnalyticsSegments, callOptions: { timeoutMs: number }) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call(segments, { timeoutMs: options.timeoutMs });
      } catch (caught) {
        const error = ConnectError.from(caught);
        if (error.code === Code.NotFound) throw error;
        if (!TRANSIENT.has(error.code) || attempt >= options.attempts) {
          log.warn(
            { method, code: Code[error.code], attempts: attempt, err: error },
            "analytics call failed",
          );
          throw unanswered(method, error, attempt, options.timeoutMs);
        }
        const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS);
        // Full jitter in its upper half: callers that failed together do not retry together.
        await delay(backoff / 2 + Math.random() * (backoff / 2));
      }
    }
  };
}

export type AnalyticsCall = ReturnType<typeof createAnalyticsClient>;

function unanswered(method: string, error: ConnectError, attempts: number, timeoutMs: number): DomainError {
  const tries = `${attempts} attempt${attempts === 1 ? "" : "s"}`;
  const why =
    error.code === Code.DeadlineExceeded
      ? `did not answer ${method} within ${timeoutMs} ms (${tries})`
      : error.code === Code.Unauthenticated || error.code === Code.PermissionDenied
        ? `refused this service's credentials for ${method} (ANALYTICS_TOKEN): ${Code[error.code]}`
        : `failed ${method} with ${Code[error.code]} (${tries}): ${error.rawMessage}`;
  return new DomainError(ErrorCatalog.unavailable, `the Analytics Service ${why}`);
}
