import type { IncomingMessage, ServerResponse } from "node:http";
import {
  create,
  type DescMessage,
  type DescMethod,
  fromJson,
  type JsonObject,
  type JsonValue,
  type Message,
  mergeFromJson,
  toJson,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  type MethodImplSpec,
} from "@connectrpc/connect";
import { invokeUnaryImplementation } from "@connectrpc/connect/protocol";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import { type CallRecorder, procedureOf } from "../api/call-recording.ts";
import { connectCodeOf, restErrorOf, restErrorOfDomain } from "../api/error-mapping.ts";
import { JSON_CONTENT_TYPE, writeJson, writeText } from "../http-json.ts";
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
const FORWARDED_RESPONSE_HEADERS = new Set(["etag", "location", "retry-after", "x-request-id"]);

export interface RestTranscoderOptions {
  bindings: RestBinding[];
  /**
   * The implementations the Connect router serves, with its interceptors: a REST call runs
   * the very same chain, given the decoded message (no second encoding to protobuf and back).
   */
  methods: MethodImplSpec[];
  interceptors: Interceptor[];
  requestMaxBytes: number;
  contextValues: () => ContextValues;
  /**
   * Runs once the route is known and before the body is read (authentication). False: the
   * interceptors will refuse the call whatever its request, so it runs with an empty one.
   */
  beforeBody?: (method: DescMethod, header: Headers, values: ContextValues) => Promise<boolean>;
  /** Told of every request refused before its RPC (404, 405, an unreadable body or parameter). */
  recordRefusal?: CallRecorder;
}

interface Route extends RestBinding {
  spec: MethodImplSpec & { kind: "unary" };
  rank: number;
  boundFields: ReadonlySet<string>;
}

/** Why the RPC did not run, as its caller is told. */
const CLIENT_GONE = new ConnectError("the client closed the request", Code.Canceled);

/**
 * Serves the REST surface by translating each request into a call of the same RPC
 * implementation, through the same interceptors, that serves Connect, gRPC and gRPC-Web,
 * then the answer back into JSON with the proto field names.
 */
export function createRestTranscoder(options: RestTranscoderOptions) {
  const specs = new Map(options.methods.map((spec) => [spec.method, spec]));
  const routes: Route[] = options.bindings
    .map((binding) => {
      const spec = specs.get(binding.rpc);
      if (spec?.kind !== "unary")
        throw new Error(`no handler registered for ${binding.rpc.parent.typeName}.${binding.rpc.name}`);
      return {
        ...binding,
        spec,
        rank: specificity(binding.template),
        boundFields: new Set(binding.template.boundFields),
      };
    })
    .sort((a, b) => b.rank - a.rank);

  return async function serveRest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    const at: { route?: Route } = {};
    try {
      await transcode(request, response, at);
    } catch (error) {
      // Anything else is a bug of ours: the HTTP layer logs it and answers 500.
      if (!(error instanceof DomainError)) throw error;
      writeError(response, restErrorOfDomain(error));
      options.recordRefusal?.({
        procedure: at.route ? procedureOf(at.route.rpc) : "unrouted",
        surface: "rest",
        stage: "transcoding",
        code: Code[connectCodeOf(error)],
        reason: error.detail,
        startedAt,
      });
    }
  };

  async function transcode(
    request: IncomingMessage,
    response: ServerResponse,
    at: { route?: Route },
  ): Promise<void> {
    const { pathname, search } = splitUrl(request.url ?? "/");
    const { path, verb } = splitVerb(pathname);
    const matches: { route: Route; variables: Map<string, string> }[] = [];
    const pieces = path.split("/").slice(1);
    for (const route of routes) {
      let variables: Map<string, string> | undefined;
      try {
        variables = matchPath(route.template, path, verb, pieces);
      } catch {
        throw new DomainError(ErrorCatalog.validation, "the path has a malformed percent-escape");
      }
      if (variables) matches.push({ route, variables });
    }
    if (matches.length === 0) {
      throw new DomainError(ErrorCatalog.routeNotFound, `no route for ${request.method} ${pathname}`);
    }
    const method = request.method === "HEAD" ? "GET" : (request.method ?? "GET");
    const match = matches.find((candidate) => candidate.route.httpMethod === method);
    if (!match) {
      const allow = [...new Set(matches.map((candidate) => candidate.route.httpMethod))].sort().join(", ");
      response.setHeader("Allow", allow);
      throw new DomainError(
        ErrorCatalog.methodNotAllowed,
        `${request.method} is not allowed on ${pathname}; use ${allow}`,
      );
    }
    const { route, variables } = match;
    at.route = route;
    const forwarded: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers[name];
      if (typeof value === "string") forwarded[name] = value;
    }
    const context = restContext(route.rpc, request, new Headers(forwarded), options.contextValues());
    const query = new URLSearchParams(search);
    const readRequest =
      !options.beforeBody || (await options.beforeBody(route.rpc, context.requestHeader, context.values));
    const input = readRequest
      ? await requestMessage(route, request, query, variables)
      : create(route.rpc.input);
    const headerParameters = typeof request.headers["if-match"] === "string" ? ["If-Match"] : [];
    await callRpc(route, context, input, response, [...query.keys()], headerParameters);
  }

  async function requestMessage(
    route: Route,
    request: IncomingMessage,
    query: URLSearchParams,
    variables: Map<string, string>,
  ): Promise<Message> {
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
    const bound = route.boundFields;
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
    return message;
  }

  async function callRpc(
    route: Route,
    context: RestContext,
    input: Message,
    response: ServerResponse,
    queryNames: string[],
    headerParameters: string[],
  ): Promise<void> {
    // A client that goes away cancels the call; one that got its answer does not.
    const onClose = () => {
      if (!response.writableFinished) context.abort.abort(CLIENT_GONE);
    };
    response.once("close", onClose);
    let output: Message;
    try {
      output = await invokeUnaryImplementation(route.spec, context, input, options.interceptors);
    } catch (thrown) {
      const error =
        thrown instanceof ConnectError
          ? thrown
          : new ConnectError("internal error", Code.Internal, undefined, undefined, thrown);
      forwardHeaders(error.metadata, response);
      forwardHeaders(context.responseHeader, response);
      const rest = restErrorOf(error);
      for (const item of rest.body.errors) {
        if (item.source) item.source = restSource(item.source, route, queryNames, headerParameters);
      }
      writeError(response, rest);
      return;
    }
    forwardHeaders(context.responseHeader, response);
    const answer = restAnswerOf(route, output);
    if (answer.etag) response.setHeader("etag", answer.etag);
    writeText(response, 200, JSON_CONTENT_TYPE, answer.body);
  }
}

// Handlers give the same message object for the same cached resource (see mappers/), and
// messages are not changed once answered: its REST answer is encoded once.
const REST_ANSWERS = new WeakMap<Message, { route: Route; body: string; etag: string | undefined }>();

function restAnswerOf(route: Route, output: Message): { body: string; etag: string | undefined } {
  const known = REST_ANSWERS.get(output);
  if (known?.route === route) return known;
  const json = toJson(route.rpc.output, output, {
    useProtoFieldName: true,
    alwaysEmitImplicit: true,
  }) as JsonObject;
  const revision = json.revision;
  const answer = {
    route,
    body: JSON.stringify(route.responseBody === "" ? json : (json[route.responseBody] ?? null)),
    etag: typeof revision === "string" || typeof revision === "number" ? `"${revision}"` : undefined,
  };
  REST_ANSWERS.set(output, answer);
  return answer;
}

type RestContext = HandlerContext & { abort: AbortController };

/**
 * The context the RPC's interceptors and implementation get. Built here rather than with
 * createHandlerContext, which links a deadline and the shutdown signal for every call (a REST
 * call has neither: no timeout header, and draining waits for it) and copies the headers.
 */
function restContext(
  method: DescMethod,
  request: IncomingMessage,
  requestHeader: Headers,
  values: ContextValues,
): RestContext {
  const abort = new AbortController();
  return {
    method,
    service: method.parent,
    signal: abort.signal,
    abort,
    timeoutMs: () => undefined,
    requestMethod: request.method ?? "GET",
    requestHeader,
    responseHeader: new Headers(),
    responseTrailer: new Headers(),
    protocolName: "rest",
    values,
    url: `http://localhost${request.url ?? "/"}`,
  };
}

function forwardHeaders(from: Headers, response: ServerResponse): void {
  // One walk over what the RPC set (usually nothing) rather than a lookup per forwarded name.
  from.forEach((value, name) => {
    if (value && FORWARDED_RESPONSE_HEADERS.has(name)) response.setHeader(name, value);
  });
}

// A path of these characters, without dot segments, is what WHATWG URL parsing would give
// back unchanged; anything else (rare) goes through it so routing sees the same path.
const PLAIN_PATH = /^(?:\/[\w\-~!$&'()*+,;=:@%]+(?:\.+[\w\-~!$&'()*+,;=:@%]+)*)*\/?$/;

function splitUrl(url: string): { pathname: string; search: string } {
  const q = url.indexOf("?");
  const pathname = q < 0 ? url : url.slice(0, q);
  const search = q < 0 ? "" : url.slice(q + 1);
  if (PLAIN_PATH.test(pathname)) return { pathname, search };
  const parsed = new URL(url, "http://localhost");
  return { pathname: parsed.pathname, search: parsed.search };
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

function writeError(response: ServerResponse, error: { status: number; body: object }): void {
  writeJson(response, error.status, error.body);
}
