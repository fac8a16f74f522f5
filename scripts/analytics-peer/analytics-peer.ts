import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { SegmentService } from "../../gen/platform/analytics/v1/segments_pb.ts";
import { type FaultControls, FaultSwitch } from "../provider-peers/peer-fault.ts";
import { listen, stop } from "../provider-peers/peer-http.ts";
import { peerPageListener } from "../provider-peers/peer-page.ts";
import { type ReceivedItems, ReceivedLog } from "../provider-peers/received-log.ts";
import { type AnalyticsFault, analyticsFault } from "./analytics-fault.ts";

/** A segment the peer serves: `size` users made up from its key, the same ones at every start. */
export interface SeededSegment {
  displayName: string;
  size: number;
  /** Whether GetSegment tells its member_count; true unless told otherwise. */
  counted?: boolean;
}

export interface AnalyticsPeerOptions {
  /** 127.0.0.1 unless told otherwise. */
  host?: string;
  /** 0 (the default) takes a free port. */
  port?: number;
  /** The bearer token every call must carry; none: calls need none. */
  token?: string;
  segments: Record<string, SeededSegment>;
}

/** One RPC the peer was called with, as its page lists it. */
export interface AnalyticsCall {
  at: string;
  /** GetSegment or ListSegmentMembers. */
  method: string;
  /** The fault it met. */
  fault: string;
}

export interface AnalyticsPeer extends ReceivedItems<AnalyticsCall>, FaultControls<AnalyticsFault> {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

// The contract's default and largest page.
const DEFAULT_PAGE_SIZE = 1_000;
const MAX_PAGE_SIZE = 10_000;
const RPC_PREFIX = `/${SegmentService.typeName}/`;

/** The `index`th member of the seeded segment `segmentId` (from 0), a UUID of version 4's form. */
export function seededMember(segmentId: string, index: number): string {
  const hex = createHash("sha256").update(`${segmentId}:${index}`).digest("hex");
  const variant = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * platform.analytics.v1.SegmentService (proto/platform/analytics/v1/segments.proto) on a
 * local HTTP/1.1 port, over the Connect protocol (and gRPC-Web), for tests and local
 * development: seeded segments read in pages whose tokens are offsets, a bearer token when
 * one is set, and faults. Beside the RPCs, its page: `GET /` lists the calls, `GET` and
 * `DELETE /messages`, `GET` and `POST /fault`.
 */
export async function startAnalyticsPeer(options: AnalyticsPeerOptions): Promise<AnalyticsPeer> {
  const host = options.host ?? "127.0.0.1";
  const faults = new FaultSwitch(analyticsFault);
  const calls = new ReceivedLog<AnalyticsCall>("the Analytics Service peer", 1000, "call");
  const authenticated: Interceptor = (next) => (request) => {
    if (options.token && request.header.get("authorization") !== `Bearer ${options.token}`) {
      throw new ConnectError("a valid bearer token is required", Code.Unauthenticated);
    }
    return next(request);
  };
  const segmentOf = (segmentId: string) => {
    const segment = options.segments[segmentId];
    if (!segment) throw new ConnectError(`no segment ${segmentId}`, Code.NotFound);
    return segment;
  };
  const routes = (router: ConnectRouter) =>
    router.service(SegmentService, {
      getSegment(request) {
        const segment = segmentOf(request.segmentId);
        return {
          segmentId: request.segmentId,
          displayName: segment.displayName,
          ...(segment.counted === false ? {} : { memberCount: BigInt(segment.size) }),
          updateTime: timestampNow(),
        };
      },
      listSegmentMembers(request) {
        const segment = segmentOf(request.segmentId);
        const offset = offsetOf(request.pageToken);
        const size = Math.min(request.pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
        const end = Math.min(offset + size, segment.size);
        const userIds: string[] = [];
        for (let index = offset; index < end; index++) userIds.push(seededMember(request.segmentId, index));
        return {
          userIds,
          nextPageToken: end < segment.size ? tokenOf(end) : "",
          totalSize: BigInt(segment.size),
        };
      },
    });
  const rpc = connectNodeAdapter({ routes, interceptors: [authenticated] });

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const fault = faults.hit();
    calls.keep({
      at: new Date().toISOString(),
      method: (request.url ?? "").slice(RPC_PREFIX.length),
      fault: fault.mode,
    });
    if (fault.mode === "slow") await delay(fault.delayMs ?? 0);
    // Left unanswered: close() cuts the connection.
    if (fault.mode === "hang") return;
    if (fault.mode === "drop") {
      request.socket.destroy();
      return;
    }
    if (fault.mode === "5xx") {
      response
        .writeHead(503, { "content-type": "application/json" })
        .end(JSON.stringify({ code: "unavailable", message: "the Analytics Service peer's 5xx fault" }));
      return;
    }
    rpc(request, response);
  }

  const server = createServer(
    peerPageListener({
      title: "Analytics Service peer",
      columns: ["at", "method", "fault"],
      row: (call: AnalyticsCall) => [call.at, call.method, call.fault],
      received: calls.asReceivedItems(),
      faults,
      routes: {
        [`${RPC_PREFIX}GetSegment`]: answer,
        [`${RPC_PREFIX}ListSegmentMembers`]: answer,
      },
    }),
  );
  const port = await listen(server, options.port ?? 0, host);
  return {
    url: `http://${host}:${port}`,
    port,
    ...calls.asReceivedItems(),
    ...faults.asFaultControls(),
    close: () => stop(server),
  };
}

function tokenOf(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString("base64url");
}

function offsetOf(token: string): number {
  if (token === "") return 0;
  const match = /^offset:(\d{1,10})$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!match) throw new ConnectError("page_token is not one this service gave", Code.InvalidArgument);
  return Number(match[1]);
}
