import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../core/logger.ts";
import { restSurfaceKey, surfaceOf } from "./surface.ts";

/** One log line per call: what was called, over which surface, how it ended and how long it took. */
export function loggingInterceptor(logger: Logger): Interceptor {
  return (next) => async (request) => {
    const started = performance.now();
    const fields = {
      procedure: `${request.method.parent.typeName}/${request.method.name}`,
      surface: surfaceOf(request.header.get("content-type"), request.contextValues.get(restSurfaceKey)),
    };
    try {
      const response = await next(request);
      logger.info({ ...fields, code: "ok", durationMs: elapsed(started) }, "rpc");
      return response;
    } catch (error) {
      const connectError = ConnectError.from(error);
      logger.info(
        {
          ...fields,
          code: Code[connectError.code],
          reason: connectError.rawMessage,
          durationMs: elapsed(started),
        },
        "rpc",
      );
      throw error;
    }
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
