import { getEventListeners } from "node:events";
import { create } from "@bufbuild/protobuf";
import { createHandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Health, HealthCheckRequestSchema } from "../../../../gen/grpc/health/v1/health_pb.ts";
import { healthService } from "../../../../server/health/health.service.ts";
import { HealthMonitor } from "../../../../server/health/health-monitor.ts";
import { createLogger } from "../../../../server/logger.ts";

describe("Health.Watch", () => {
  it("keeps one abort listener on the call's signal however long it watches", async () => {
    const monitor = new HealthMonitor([{ name: "always", check: async () => undefined }], {
      timeoutMs: 100,
      cacheMs: 0,
      logger: createLogger("silent"),
    });
    const call = new AbortController();
    const context = createHandlerContext({
      service: Health,
      method: Health.method.watch,
      protocolName: "grpc",
      requestMethod: "POST",
      url: "/grpc.health.v1.Health/Watch",
      requestSignal: call.signal,
    });
    const stream = healthService(monitor, 1).watch?.(
      create(HealthCheckRequestSchema, { service: "" }),
      context,
    );
    if (!stream) throw new Error("no watch method");
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    const before = getEventListeners(context.signal, "abort").length;
    // The status does not change, so the loop sleeps and checks again, many times over.
    const next = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(getEventListeners(context.signal, "abort").length).toBeLessThanOrEqual(before + 1);
    call.abort();
    expect((await next).done).toBe(true);
  });
});
