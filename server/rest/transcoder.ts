import type { IncomingMessage, ServerResponse } from "node:http";
import {
  create,
  type DescMessage,
  fromBinary,
  fromJson,
  type JsonObject,
  type JsonValue,
  mergeFromJson,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import { restErrorOf, restErrorOfDomain } from "../api/error-mapping.ts";
import { writeJson } from "../http-json.ts";
import type { RestBinding } from "./http-rules.ts";
import { matchPath, specificity } from "./path-template.ts";
import { jsonFragmentFor } from "./request-message.ts";

// Request headers a REST caller may pass through to the RPC (auth, preconditions, tracing).
const FORWARDED_REQUEST_HEADERS = [
  "authorization",
  "x-api-key",
  "if-match",
  "if-none-match",
  "x-request-id",
  "traceparent",
  "tracestate",
  "accept-language",
  "user-agent",
];
// Response headers of the RPC that mean something to a REST caller.
const FORWARDED_RESPONSE_HEADERS = ["etag", "location", "retry-after", "x-request-id"];

export interface RestTranscoderOptions {
  bindings: RestBinding[];
  /** The Connect router's handlers: REST calls go through them, with all interceptors. */
  handlers: UniversalHandler[];
  requestMaxBytes: number;
  contextValues: () => ContextValues;
}

interface Route extends RestBinding {
  handler: UniversalHandler;
  rank: number;
}

/**
 * Serves the REST surface by translating each request into a call of the same RPC
 * handler that serves Connect, gRPC and gRPC-Web, then the answer back into JSON
 * with the proto field names.
 */
export function createRestTranscoder(options: RestTranscoderOptions) {
  const routes: Route[] = options.bindings
    .map((binding) => {
      const handler = options.handlers.find(
        (h) => h.method === binding.rpc && h.protocolNames.includes("connect"),
      );
      if (!handler)
        throw new Error(`no handler registered for ${binding.rpc.parent.typeName}.${binding.rpc.name}`);
      return { ...binding, handler, rank: specificity(binding.template) };
    })
    .sort((a, b) => b.rank - a.rank);

  return async function serveRest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await transcode(request, response);
    } catch (error) {
      // Anything else is a bug of ours: the HTTP layer logs it and answers 500.
      if (!(error instanceof DomainError)) throw error;
      writeError(response, restErrorOfDomain(error));
    }
  };

  async function transcode(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    const { path, verb } = splitVerb(url.pathname);
    const matches: { route: Route; variables: Map<string, string> }[] = [];
    for (const route of routes) {
      let variables: Map<string, string> | undefined;
      try {
        variables = matchPath(route.template, path, verb);
      } catch {
        throw new DomainError(ErrorCatalog.validation, "the path has a malformed percent-escape");
      }
      if (variables) matches.push({ route, variables });
    }
    if (matches.length === 0) {
      throw new DomainError(ErrorCatalog.routeNotFound, `no route for ${request.method} ${url.pathname}`);
    }
    const method = request.method === "HEAD" ? "GET" : (request.method ?? "GET");
    const match = matches.find((candidate) => candidate.route.httpMethod === method);
    if (!match) {
      const allow = [...new Set(matches.map((candidate) => candidate.route.httpMethod))].sort().join(", ");
      response.setHeader("Allow", allow);
      throw new DomainError(
        ErrorCatalog.methodNotAllowed,
        `${request.method} is not allowed on ${url.pathname}; use ${allow}`,
      );
    }
    const { route, variables } = match;
    const input = await requestMessage(route, request, url.searchParams, variables);
    const headerParameters = typeof request.headers["if-match"] === "string" ? ["If-Match"] : [];
    await callRpc(route, request, input, response, [...url.searchParams.keys()], headerParameters);
  }

  async function requestMessage(
    route: Route,
    request: IncomingMessage,
    query: URLSearchParams,
    variables: Map<string, string>,
  ): Promise<Uint8Array> {
    const schema = route.rpc.input;
    const message = create(schema);
    if (route.body !== "") {
      const body = await readJsonBody(request, options.requestMaxBytes);
      if (route.body === "*") mergeJson(schema, message, body, "");
      else mergeBodyField(schema, message, route.body, body);
    }
    for (const [field, value] of variables) {
      mergeJson(schema, message, jsonFragmentFor(schema, field, [value], field), field);
    }
    const bound = new Set(route.template.boundFields);
    for (const name of new Set(query.keys())) {
      if (route.body === "*") {
        throw new DomainError(
          ErrorCatalog.validation,
          `unknown parameter "${name}": this route takes its request in the body`,
          {
            parameter: name,
          },
        );
      }
      if (bound.has(name)) {
        throw new DomainError(ErrorCatalog.validation, `"${name}" is already set by the path`, {
          parameter: name,
        });
      }
      mergeJson(schema, message, jsonFragmentFor(schema, name, query.getAll(name), name), name);
    }
    const ifMatch = request.headers["if-match"];
    if (typeof ifMatch === "string" && schema.fields.some((field) => field.name === EXPECTED_REVISION)) {
      mergeJson(schema, message, { [EXPECTED_REVISION]: revisionOfETag(ifMatch) }, "If-Match");
    }
    return toBinary(schema, message);
  }

  async function callRpc(
    route: Route,
    request: IncomingMessage,
    input: Uint8Array,
    response: ServerResponse,
    queryNames: string[],
    headerParameters: string[],
  ): Promise<void> {
    const header = new Headers({ "content-type": "application/proto", "connect-protocol-version": "1" });
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers[name];
      if (typeof value === "string") header.set(name, value);
    }
    const abort = new AbortController();
    response.once("close", () => abort.abort());
    const answer = await route.handler({
      httpVersion: "1.1",
      url: `http://localhost${route.handler.requestPath}`,
      method: "POST",
      header,
      body: oneChunk(input),
      signal: abort.signal,
      contextValues: options.contextValues(),
    });
    const bytes = await collect(answer.body);
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = answer.header?.get(name);
      if (value) response.setHeader(name, value);
    }
    if (answer.status !== 200) {
      const fallback = new ConnectError(`RPC answered HTTP ${answer.status}`, Code.Internal);
      const error = restErrorOf(errorFromJsonBytes(bytes, answer.header, fallback));
      for (const item of error.body.errors) {
        if (item.source) item.source = restSource(item.source, route, queryNames, headerParameters);
      }
      writeError(response, error);
      return;
    }
    const output = fromBinary(route.rpc.output, bytes);
    const json = toJson(route.rpc.output, output, {
      useProtoFieldName: true,
      alwaysEmitImplicit: true,
    }) as JsonObject;
    if (typeof json.revision === "string" || typeof json.revision === "number") {
      response.setHeader("etag", `"${json.revision}"`);
    }
    const body = route.responseBody === "" ? json : (json[route.responseBody] ?? null);
    writeJson(response, 200, body);
  }
}

// Optimistic concurrency on REST: If-Match carries the revision an update is based on,
// and every answer that has a revision carries it back as the ETag.
const EXPECTED_REVISION = "expected_revision";

function revisionOfETag(ifMatch: string): string {
  const revision = /^(?:W\/)?"?(\d+)"?$/.exec(ifMatch.trim())?.[1];
  if (!revision) {
    throw new DomainError(
      ErrorCatalog.validation,
      `If-Match must be an ETag this service gave, got ${ifMatch}`,
      {
        parameter: "If-Match",
      },
    );
  }
  return revision;
}

/**
 * RPC errors point into the request message; a REST caller wants them relative to what it
 * sent: a path or query parameter by name, or a pointer into the body.
 */
function restSource(
  source: { pointer?: string; parameter?: string },
  route: RestBinding,
  queryNames: string[],
  headerParameters: string[],
): { pointer?: string; parameter?: string } {
  if (!source.pointer) return source;
  if (source.pointer === `/${EXPECTED_REVISION}` && headerParameters.includes("If-Match")) {
    return { parameter: "If-Match" };
  }
  const segments = source.pointer.split("/").slice(1);
  const dotted = segments.join(".");
  for (const name of [...route.template.boundFields, ...queryNames]) {
    if (dotted === name || dotted.startsWith(`${name}.`)) return { parameter: name };
  }
  if (route.body !== "*" && route.body !== "" && segments[0] === route.body) {
    return { pointer: segments.length > 1 ? `/${segments.slice(1).join("/")}` : "" };
  }
  return source;
}

function splitVerb(pathname: string): { path: string; verb?: string } {
  const lastSlash = pathname.lastIndexOf("/");
  const colon = pathname.indexOf(":", lastSlash);
  if (colon < 0) return { path: pathname };
  return { path: pathname.slice(0, colon), verb: pathname.slice(colon + 1) };
}

function mergeJson(
  schema: DescMessage,
  target: ReturnType<typeof create>,
  json: JsonValue,
  parameter: string,
): void {
  try {
    mergeFromJson(schema, target, json);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const source = parameter ? { parameter } : { pointer: failingPointer(schema, json, "") };
    throw new DomainError(ErrorCatalog.validation, detail, source);
  }
}

/** Merges the body into one field of the request; a decoding error points into the body as sent. */
function mergeBodyField(
  schema: DescMessage,
  target: ReturnType<typeof create>,
  field: string,
  body: JsonValue,
): void {
  try {
    mergeJson(schema, target, { [field]: body }, "");
  } catch (error) {
    const pointer = error instanceof DomainError ? error.source.pointer : undefined;
    if (!(error instanceof DomainError) || pointer === undefined || !pointer.startsWith(`/${field}`))
      throw error;
    throw new DomainError(error.entry, error.detail, { pointer: pointer.slice(field.length + 1) });
  }
}

/**
 * protobuf-es does not say which field of a JSON body it could not decode, so the
 * body is decoded again field by field, down into nested messages, to find it.
 */
function failingPointer(schema: DescMessage, json: JsonValue, prefix: string): string {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return prefix;
  for (const [key, value] of Object.entries(json)) {
    try {
      fromJson(schema, { [key]: value } as JsonObject);
    } catch {
      const field = schema.fields.find((f) => f.name === key || f.jsonName === key);
      const here = `${prefix}/${field?.name ?? key}`;
      if (field?.fieldKind === "message") return failingPointer(field.message, value, here);
      if (field?.fieldKind === "list" && field.listKind === "message" && Array.isArray(value)) {
        const index = value.findIndex((item) => !decodes(field.message, item));
        return index < 0 ? here : failingPointer(field.message, value[index] ?? null, `${here}/${index}`);
      }
      return here;
    }
  }
  return prefix;
}

function decodes(schema: DescMessage, json: JsonValue): boolean {
  try {
    fromJson(schema, json);
    return true;
  } catch {
    return false;
  }
}

async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<JsonValue> {
  const declared = Number(request.headers["content-length"] ?? "0");
  if (declared > maxBytes) {
    request.resume();
    throw new DomainError(
      ErrorCatalog.payloadTooLarge,
      `the body has ${declared} bytes; the limit is ${maxBytes} bytes`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      request.resume();
      throw new DomainError(ErrorCatalog.payloadTooLarge, `the body exceeds the limit of ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  if (size === 0) return {};
  const contentType = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (contentType !== "application/json") {
    throw new DomainError(
      ErrorCatalog.unsupportedMediaType,
      `the body must be application/json, got "${contentType || "no content type"}"`,
    );
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as JsonValue;
  } catch (error) {
    throw new DomainError(
      ErrorCatalog.malformedBody,
      `the body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

async function collect(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function writeError(response: ServerResponse, error: { status: number; body: object }): void {
  writeJson(response, error.status, error.body);
}
