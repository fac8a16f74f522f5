import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { fromBinary } from "@bufbuild/protobuf";
import { createContextKey, createContextValues } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";
import { oneChunk } from "./http1-adapter.ts";

/** Why the request's Protobuf could not be decoded; empty when it could. */
export const malformedProtobufKey = createContextKey<string>("", {
  description: "why the binary request message could not be decoded",
});

// Binary content types by how the message travels: bare (Connect unary) or in the
// 5-byte envelopes of gRPC, gRPC-Web and Connect streaming; and the header naming its
// compression.
const FRAMING: Record<string, { enveloped: boolean; encodingHeader: string }> = {
  "application/proto": { enveloped: false, encodingHeader: "content-encoding" },
  "application/connect+proto": { enveloped: true, encodingHeader: "connect-content-encoding" },
  "application/grpc": { enveloped: true, encodingHeader: "grpc-encoding" },
  "application/grpc+proto": { enveloped: true, encodingHeader: "grpc-encoding" },
  "application/grpc-web": { enveloped: true, encodingHeader: "grpc-encoding" },
  "application/grpc-web+proto": { enveloped: true, encodingHeader: "grpc-encoding" },
};

const ENVELOPE_HEADER_BYTES = 5;
const COMPRESSED_FLAG = 0b1;

/**
 * connect-es answers a binary message it cannot decode with INTERNAL, as if the
 * server were at fault, and before any interceptor runs. This wrapper decodes a
 * single-message request first; when that fails it passes an empty message instead,
 * with the reason in `malformedProtobufKey`, so the interceptors authenticate, refuse
 * it as INVALID_ARGUMENT in the caller's protocol, log it and count it like any other
 * bad request.
 */
export function refusingMalformedProtobuf(handler: UniversalHandler, readMaxBytes: number): UniversalHandler {
  const singleMessage =
    handler.method.methodKind === "unary" || handler.method.methodKind === "server_streaming";
  const wrapped = async (request: UniversalServerRequest) => {
    const contentType = request.header.get("content-type")?.split(";", 1)[0]?.trim().toLowerCase() ?? "";
    const framing = FRAMING[contentType];
    if (!singleMessage || !framing || request.method !== "POST" || !isByteStream(request.body)) {
      return handler(request);
    }
    const bytes = await readUpTo(request.body, readMaxBytes);
    if ("rest" in bytes) return handler({ ...request, body: bytes.rest });
    const reason = decodeProblem(handler, bytes, framing, request.header.get(framing.encodingHeader));
    if (reason === undefined) return handler({ ...request, body: oneChunk(bytes.all) });
    const header = new Headers(request.header);
    header.delete(framing.encodingHeader);
    header.delete("content-length");
    const contextValues = request.contextValues ?? createContextValues();
    contextValues.set(malformedProtobufKey, reason);
    const empty = framing.enveloped ? new Uint8Array(ENVELOPE_HEADER_BYTES) : new Uint8Array(0);
    return handler({ ...request, header, body: oneChunk(empty), contextValues });
  };
  return Object.assign(wrapped, handler);
}

/** Undefined when the message decodes, or when its framing is for connect-es to judge. */
function decodeProblem(
  handler: UniversalHandler,
  bytes: { all: Uint8Array },
  framing: { enveloped: boolean },
  encoding: string | null,
): string | undefined {
  let payload = bytes.all;
  let compressed = !framing.enveloped && encoding !== null && encoding !== "identity";
  if (framing.enveloped) {
    if (payload.length < ENVELOPE_HEADER_BYTES) return undefined;
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const length = view.getUint32(1);
    if (payload.length !== ENVELOPE_HEADER_BYTES + length) return undefined;
    compressed = ((payload[0] ?? 0) & COMPRESSED_FLAG) !== 0;
    payload = payload.subarray(ENVELOPE_HEADER_BYTES);
  }
  try {
    if (compressed) payload = decompress(payload, encoding);
  } catch {
    return undefined;
  }
  try {
    fromBinary(handler.method.input, payload);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function decompress(payload: Uint8Array, encoding: string | null): Uint8Array {
  if (encoding === "gzip") return gunzipSync(payload);
  if (encoding === "br") return brotliDecompressSync(payload);
  throw new Error(`unknown encoding ${encoding}`);
}

function isByteStream(body: UniversalServerRequest["body"]): body is AsyncIterable<Uint8Array> {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}

/**
 * The whole body; past the limit, the body as it came (what was read, then the rest),
 * for connect-es to refuse with its own error.
 */
async function readUpTo(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<{ all: Uint8Array } | { rest: AsyncIterable<Uint8Array> }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > maxBytes + ENVELOPE_HEADER_BYTES) return { rest: replay(chunks, iterator) };
  }
  return { all: chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks) };
}

async function* replay(read: Uint8Array[], unread: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield* read;
  for (let next = await unread.next(); !next.done; next = await unread.next()) yield next.value;
}
