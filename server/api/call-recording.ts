import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../core/logger.ts";
import type { Metrics } from "../metrics.ts";
import { type ApiSurface, restSurfaceKey, surfaceOf } from "./surface.ts";

/**
 * Where a call ended: `rpc` once it reached the interceptors of its method, `transcoding`
 * when the REST layer refused it before any RPC (no route, wrong method, a body it could
 * not read). Both are logged and counted the same way, told apart by this.
 */
export type CallStage = "rpc" | "transcoding";

/** How one API call ended, as it is logged and counted. */
export interface CallOutcome {
  /** "package.Service/Method"; "unrouted" when no method was found for the request. */
  procedure: string;
  surface: ApiSurface;
  stage: CallStage;
  /** "ok", or the name of the Connect code the call failed with. */
  code: string;
  /** Why it failed, as the caller was told. */
  reason?: string;
  startedAt: number;
}

export type CallRecorder = (outcome: CallOutcome) => void;

export interface CallRecordingOptions {
  /** The fraction of successful calls that get a log line; failed calls always do. */
  successSampleRate: number;
  random?: () => number;
}

/**
 * One log line and one count per call. Failed calls are always logged; successful ones as
 * sampled, since at thousands of calls a second the line costs more than the call and
 * tells nothing the metrics don't.
 */
export function createCallRecorder(
  logger: Logger,
  metrics: Pick<Metrics, "rpcRequestCounts" | "rpcDuration">,
  options: CallRecordingOptions,
): CallRecorder {
  const random = options.random ?? Math.random;
  const rate = options.successSampleRate;
  // procedure → surface → stage → the series of that call, found without building a key.
  const series = new Map<string, Map<string, Map<string, CallSeries>>>();
  const seriesOf = (procedure: string, surface: string, stage: string): CallSeries => {
    let bySurface = series.get(procedure);
    if (!bySurface) {
      bySurface = new Map();
      series.set(procedure, bySurface);
    }
    let byStage = bySurface.get(surface);
    if (!byStage) {
      byStage = new Map();
      bySurface.set(surface, byStage);
    }
    let found = byStage.get(stage);
    if (!found) {
      found = { duration: metrics.rpcDuration.labels(procedure, surface, stage), counts: new Map() };
      byStage.set(stage, found);
    }
    return found;
  };
  return (outcome) => {
    const seconds = (performance.now() - outcome.startedAt) / 1000;
    const { procedure, surface, stage, code } = outcome;
    const call = seriesOf(procedure, surface, stage);
    let count = call.counts.get(code);
    if (!count) {
      count = metrics.rpcRequestCounts.slot({ procedure, surface, stage, code });
      call.counts.set(code, count);
    }
    count.count++;
    call.duration.observe(seconds);
    if (code === "ok" && !(rate >= 1 || (rate > 0 && random() < rate))) return;
    const durationMs = Math.round(seconds * 10_000) / 10;
    const fields =
      outcome.reason === undefined
        ? { procedure, surface, stage, code, durationMs }
        : { procedure, surface, stage, code, reason: outcome.reason, durationMs };
    logger.info(fields, "rpc");
  };
}

interface CallSeries {
  duration: { observe(seconds: number): void };
  counts: Map<string, { count: number }>;
}

const PROCEDURES = new WeakMap<DescMethod, string>();

export function procedureOf(method: DescMethod): string {
  let name = PROCEDURES.get(method);
  if (name === undefined) {
    name = `${method.parent.typeName}/${method.name}`;
    PROCEDURES.set(method, name);
  }
  return name;
}

/** Records every call that reaches the interceptors, on every surface, once. */
export function callRecordingInterceptor(record: CallRecorder): Interceptor {
  return (next) => async (request) => {
    const startedAt = performance.now();
    const procedure = procedureOf(request.method);
    const surface = request.contextValues.get(restSurfaceKey)
      ? "rest"
      : surfaceOf(request.header.get("content-type"), false);
    try {
      const response = await next(request);
      record({ procedure, surface, stage: "rpc", code: "ok", startedAt });
      return response;
    } catch (error) {
      const connectError = ConnectError.from(error);
      record({
        procedure,
        surface,
        stage: "rpc",
        code: Code[connectError.code] ?? "unknown",
        reason: connectError.rawMessage,
        startedAt,
      });
      throw error;
    }
  };
}
