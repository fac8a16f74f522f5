import type * as http from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { universalResponseToNodeResponse } from "@connectrpc/connect-node";

// connect-node's adapters between node:http and connect's universal handlers, for HTTP/1.1,
// less what they cost every call that ends normally. HTTP/2 keeps connect-node's own.

const CLIENT_GONE = new ConnectError("the client closed the request", Code.Canceled);

/**
 * connect-node's universalRequestFromNodeRequest, for HTTP/1.1, less two costs of every call:
 * it aborts the request's signal at each close, a complete answer's too (an AbortError with its
 * stack each time), and it parses the URL it builds. Here only a call cut short is aborted.
 */
export function universalRequestOfHttp1(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  /** The body, when it was read at once (see readUnaryBody); otherwise the handler reads it. */
  body?: Uint8Array,
): UniversalServerRequest {
  const abort = new AbortController();
  const onError = (error: Error) => {
    response.off("close", onClose);
    abort.abort(ConnectError.from(error, Code.Aborted));
  };
  const onClose = () => {
    request.off("error", onError);
    if (!response.writableFinished) abort.abort(CLIENT_GONE);
  };
  request.once("error", onError);
  response.once("close", onClose);
  const header = new Headers();
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) header.append(raw[i] as string, raw[i + 1] as string);
  return {
    httpVersion: request.httpVersion,
    method: request.method ?? "",
    url: `http://${request.headers.host ?? "localhost"}${request.url ?? ""}`,
    header,
    body: body ? oneChunk(body) : request.iterator({ destroyOnReturn: false }),
    signal: abort.signal,
  };
}

/** A body that is one chunk already read, as connect's handlers read a body. */
export async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

// A Connect unary request (not a stream, not gRPC-Web), whose body the handler reads whole anyway.
const CONNECT_UNARY = /^application\/(?:json|proto)(?:;|$)/i;

/**
 * The body of a Connect unary request, read with plain data events instead of the async
 * iterator connect's handler would walk: a few microtasks less per call. Undefined, and
 * nothing read, unless the request is a Connect unary POST with a declared length within
 * `maxBytes` and no content-encoding: anything else is left to the handler, which enforces
 * the limit, decompresses and answers errors in its protocol.
 */
export function readUnaryBody(
  request: http.IncomingMessage,
  maxBytes: number,
): Promise<Uint8Array | undefined> | undefined {
  const headers = request.headers;
  const declared = Number(headers["content-length"] ?? Number.NaN);
  if (
    request.method !== "POST" ||
    !(declared >= 0 && declared <= maxBytes) ||
    headers["content-encoding"] !== undefined ||
    !CONNECT_UNARY.test(headers["content-type"] ?? "")
  ) {
    return undefined;
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    // A request cut short (client gone): connect's own reader meets the same error and
    // answers it as it always did.
    request.once("error", () => resolve(undefined));
    request.once("end", () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
  });
}

/**
 * Writes a handler's answer. A unary answer (its length known, its one chunk ready, the request
 * read to its end) is written at once: connect-node's writer waits for the socket's callback
 * after the chunk and then drains the request through a second async iterator, two more turns
 * of the event loop per call. Anything else (a stream, trailers, a body left unread) goes to it.
 */
export async function writeHttp1Answer(
  answer: UniversalServerResponse,
  request: http.IncomingMessage,
  response: http.ServerResponse,
): Promise<void> {
  const length = answer.header?.get("content-length");
  if (length === null || length === undefined || answer.trailer !== undefined || !request.complete) {
    await universalResponseToNodeResponse(answer, response);
    return;
  }
  const chunks: Uint8Array[] = [];
  if (answer.body) for await (const chunk of answer.body) chunks.push(chunk);
  const headers: Record<string, string> = {};
  answer.header?.forEach((value, name) => {
    headers[name] = value;
  });
  response.writeHead(answer.status, headers);
  response.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
}
