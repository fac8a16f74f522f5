// Calls any unary method of a service over Connect, gRPC or gRPC-Web from a proto JSON
// request, and gives back proto JSON (proto field names, implicit fields included) or
// the error's code: the same shape the REST surface answers in, so results compare.
import {
  type DescService,
  fromJson,
  type JsonObject,
  type JsonValue,
  type Message,
  toJson,
} from "@bufbuild/protobuf";
import { ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { ErrorDetailSchema } from "../../gen/platform/notification/v1/errors_pb.ts";
import type { ServiceProcess } from "./service-process.ts";

export type Outcome = JsonValue | { error: string };
export type RpcSurface = "connect" | "grpc" | "grpc-web";

export const JSON_OPTIONS = { useProtoFieldName: true, alwaysEmitImplicit: true } as const;

export function transportsOf(
  service: ServiceProcess,
  interceptors: Interceptor[],
): Record<RpcSurface, Transport> {
  return {
    connect: createConnectTransport({ baseUrl: service.httpUrl, httpVersion: "1.1", interceptors }),
    grpc: createGrpcTransport({ baseUrl: service.grpcUrl, interceptors }),
    "grpc-web": createGrpcWebTransport({ baseUrl: service.httpUrl, httpVersion: "1.1", interceptors }),
  };
}

/** `call("createTemplate", {...})` on the service over the transport. */
export function rpcCaller(service: DescService, transport: Transport) {
  const client = createClient(service, transport) as unknown as Record<
    string,
    (request: Message) => Promise<Message>
  >;
  return async (methodName: string, request: JsonObject): Promise<Outcome> => {
    const method = service.methods.find((each) => each.localName === methodName);
    if (!method) throw new Error(`${service.typeName} has no method ${methodName}`);
    const call = client[methodName];
    if (!call) throw new Error(`no client method ${methodName}`);
    return outcomeOf(async () =>
      toJson(method.output, await call(fromJson(method.input, request)), JSON_OPTIONS),
    );
  };
}

/** The answer of an RPC, or the code of the ErrorDetail it failed with. */
export async function outcomeOf(call: () => Promise<JsonValue>): Promise<Outcome> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    return { error: error.findDetails(ErrorDetailSchema)[0]?.code ?? `no detail: ${error.message}` };
  }
}

/** A REST call answering the same way: the JSON body, or the first error's code. */
export function restCaller(baseUrl: string, headers: Record<string, string>) {
  return async (
    method: string,
    path: string,
    body?: JsonObject,
    extraHeaders: Record<string, string> = {},
  ): Promise<Outcome> => {
    const response = await fetch(`${baseUrl}/api/v1/notifications${path}`, {
      method,
      headers: { ...headers, ...(body ? { "content-type": "application/json" } : {}), ...extraHeaders },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await response.json()) as JsonObject;
    if (response.ok) return json;
    return { error: (json.errors as { code: string }[])[0]?.code ?? `HTTP ${response.status}` };
  };
}
