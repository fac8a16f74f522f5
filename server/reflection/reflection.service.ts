import type { ConnectRouter } from "@connectrpc/connect";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.ts";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { createDescriptorIndex, type DescriptorIndex } from "./descriptor-index.ts";
import { answerReflectionQuery, type ReflectionQuery } from "./reflection-answer.ts";

/**
 * Services callable without credentials, by full name. Reflection is public: it tells
 * only what our published contracts already say, and a generic client (grpcurl, Postman,
 * grpcui) needs it before it can build any call, authenticated or not. The reflection
 * protos are third-party and carry no `platform.notification.v1.access` option, so the
 * authorization interceptor reads this list instead.
 */
export const PUBLIC_SERVICES: readonly string[] = [
  ServerReflectionV1.typeName,
  ServerReflectionV1alpha.typeName,
];

/**
 * Serves gRPC server reflection, v1 and v1alpha (grpcurl and others fall back to v1alpha,
 * older clients ask for it only), about every service of `router`, the reflection
 * services included.
 */
export function registerReflection(router: ConnectRouter): void {
  let index: DescriptorIndex | undefined;
  // Built at the first request rather than now, so services registered after this call are
  // listed too and registerRoutes can keep any order.
  const current = () => (index ??= createDescriptorIndex(router.handlers.map((handler) => handler.service)));
  router.service(ServerReflectionV1, { serverReflectionInfo: (requests) => respond(requests, current) });
  router.service(ServerReflectionV1alpha, { serverReflectionInfo: (requests) => respond(requests, current) });
}

/** What v1 and v1alpha requests share. */
interface ReflectionRequest {
  host: string;
  messageRequest: ReflectionQuery;
}

/** One answer per request, in order; an unknown name is an error answer and the stream goes on. */
async function* respond<Request extends ReflectionRequest>(
  requests: AsyncIterable<Request>,
  index: () => DescriptorIndex,
) {
  const sentFiles = new Set<string>();
  for await (const request of requests) {
    yield {
      validHost: request.host,
      originalRequest: request,
      messageResponse: answerReflectionQuery(index(), request.messageRequest, sentFiles),
    };
  }
}
