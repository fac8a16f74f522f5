import type * as http from "node:http";
import type { DescMethod } from "@bufbuild/protobuf";
import {
  type ConnectRouter,
  type ContextValues,
  createConnectRouter,
  createContextValues,
  createMethodImplSpec,
  createServiceImplSpec,
  type Interceptor,
  type MethodImplSpec,
} from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Logger } from "../../core/logger.ts";
import type { Request, RequestHandler, Response } from "../http-servers.ts";
import { createApiDocsEndpoints } from "../openapi/docs-endpoints.ts";
import { restBindingsOf } from "../rest/http-rules.ts";
import { createRestTranscoder } from "../rest/transcoder.ts";
import type { CallRecorder } from "./call-recording.ts";
import { writeRouteNotFound } from "./error-mapping.ts";
import { readUnaryBody, universalRequestOfHttp1, writeHttp1Answer } from "./http1-adapter.ts";
import { refusingMalformedProtobuf } from "./malformed-protobuf.ts";
import { type ApiServices, registerRoutes, SERVED_SERVICES } from "./routes.ts";
import { restSurfaceKey } from "./surface.ts";

export const REST_BASE_PATH = "/api/v1/notifications/";

export interface ApiHandlerOptions {
  services: ApiServices;
  interceptors: Interceptor[];
  requestMaxBytes: number;
  shutdownSignal: AbortSignal;
  logger: Logger;
  /** Authenticates a REST call before its body is read (see authenticateEarly). */
  beforeRestBody?: (method: DescMethod, header: Headers, values: ContextValues) => Promise<boolean>;
  /** Logs and counts the REST requests refused before their RPC. */
  recordRefusal?: CallRecorder;
  /**
   * Endpoints outside the contracts, under the REST base path, for callers that cannot
   * speak them (mail clients, providers' webhooks); each answers whether it served the request.
   */
  plainEndpoints?: ((request: Request, response: Response) => Promise<boolean>)[];
}

/**
 * One router serves Connect, gRPC and gRPC-Web by path, and REST through the
 * transcoder that calls the very same handlers: one implementation, one set of
 * interceptors. Returns null for paths that are not the API's.
 */
export function createApiHandler(options: ApiHandlerOptions) {
  const router = createConnectRouter({
    interceptors: options.interceptors,
    readMaxBytes: options.requestMaxBytes,
    shutdownSignal: options.shutdownSignal,
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  const methods: MethodImplSpec[] = [];
  registerRoutes(recordingImplementations(router, methods), options.services);
  const byPath = new Map<string, UniversalHandler>(
    router.handlers.map((handler) => [
      handler.requestPath,
      refusingMalformedProtobuf(handler, options.requestMaxBytes),
    ]),
  );
  const serveRest = createRestTranscoder({
    bindings: restBindingsOf(SERVED_SERVICES),
    methods,
    interceptors: options.interceptors,
    requestMaxBytes: options.requestMaxBytes,
    contextValues: () => createContextValues().set(restSurfaceKey, true),
    ...(options.beforeRestBody ? { beforeBody: options.beforeRestBody } : {}),
    ...(options.recordRefusal ? { recordRefusal: options.recordRefusal } : {}),
  });
  const serveApiDocs = createApiDocsEndpoints({ basePath: REST_BASE_PATH, services: SERVED_SERVICES });

  const serveRpc: RequestHandler = async (request, response) => {
    const path = request.url?.split("?", 1)[0] ?? "";
    const handler = byPath.get(path);
    if (!handler) {
      writeRouteNotFound(response, request.method, path);
      return;
    }
    if ("stream" in request) {
      const answer = await handler(universalRequestFromNodeRequest(request, response, undefined, undefined));
      await universalResponseToNodeResponse(answer, response);
      return;
    }
    const http1 = response as http.ServerResponse;
    const body =
      handler.method.methodKind === "unary"
        ? await readUnaryBody(request, options.requestMaxBytes)
        : undefined;
    await writeHttp1Answer(await handler(universalRequestOfHttp1(request, http1, body)), request, http1);
  };

  return {
    handlers: router.handlers,
    async serve(
      request: Parameters<RequestHandler>[0],
      response: Parameters<RequestHandler>[1],
    ): Promise<void> {
      // The OpenAPI document and the docs page are public: they only describe the API,
      // whose routes still ask for credentials.
      if (await serveApiDocs(request, response)) return;
      for (const serve of options.plainEndpoints ?? []) if (await serve(request, response)) return;
      if (request.url?.startsWith(REST_BASE_PATH)) {
        await serveRest(request as http.IncomingMessage, response as http.ServerResponse);
      } else {
        await serveRpc(request, response);
      }
    },
  };
}

/** The router, also noting each method's implementation for the REST transcoder. */
function recordingImplementations(router: ConnectRouter, methods: MethodImplSpec[]): ConnectRouter {
  const recording: ConnectRouter = {
    handlers: router.handlers,
    service(service, implementation, options) {
      methods.push(...Object.values(createServiceImplSpec(service, implementation).methods));
      router.service(service, implementation, options);
      return recording;
    },
    rpc(method, implementation, options) {
      methods.push(createMethodImplSpec(method, implementation));
      router.rpc(method, implementation, options);
      return recording;
    },
  };
  return recording;
}
