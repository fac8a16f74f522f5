// HTTP content encodings: request bodies by Content-Encoding, responses by
// Accept-Encoding when the query enables enable_http_compression, as ClickHouse does.
// Node's zlib covers gzip, deflate, br and zstd, and lz4 (the LZ4 frame format,
// which clickhouse-connect uses by default) is our own codec; ClickHouse also knows
// xz, bz2 and snappy, which are refused on requests and never chosen for responses.

import { promisify } from "node:util";
import zlib from "node:zlib";
import { clickHouseError, type OwnError } from "./errors.ts";
import { lz4FrameDecode, lz4FrameEncode } from "./lz4.ts";

export type ResponseEncoding = "zstd" | "br" | "lz4" | "gzip" | "deflate";

interface Codec {
  decode: (body: Buffer) => Promise<Buffer>;
  failure: OwnError;
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const brotliDecompress = promisify(zlib.brotliDecompress);
const zstdDecompress = promisify(zlib.zstdDecompress);

// Request names as ClickHouse's chooseCompressionMethod accepts them; its
// "deflate" is the zlib format (RFC 1950), not raw deflate.
const codecs = new Map<string, Codec>([
  ["gzip", { decode: (b) => gunzip(b), failure: "ZLIB_INFLATE_FAILED" }],
  ["gz", { decode: (b) => gunzip(b), failure: "ZLIB_INFLATE_FAILED" }],
  ["deflate", { decode: (b) => inflate(b), failure: "ZLIB_INFLATE_FAILED" }],
  ["br", { decode: (b) => brotliDecompress(b), failure: "BROTLI_READ_FAILED" }],
  ["zstd", { decode: (b) => zstdDecompress(b), failure: "ZSTD_DECODER_FAILED" }],
  ["zst", { decode: (b) => zstdDecompress(b), failure: "ZSTD_DECODER_FAILED" }],
  ["lz4", { decode: async (b) => lz4FrameDecode(b), failure: "LZ4_DECODER_FAILED" }],
]);

export async function decodeRequestBody(body: Buffer, contentEncoding: string | undefined): Promise<Buffer> {
  const name = (contentEncoding ?? "").trim().toLowerCase();
  if (name === "" || name === "none") return body;
  const codec = codecs.get(name);
  if (!codec) {
    throw clickHouseError(
      "NOT_IMPLEMENTED",
      `Unsupported compression method '${name}'. This ClickHouse front supports 'gzip', 'deflate', 'br', 'zstd' and 'lz4'`,
    );
  }
  try {
    return await codec.decode(body);
  } catch (error) {
    throw clickHouseError(codec.failure, `${name} decompression failed: ${(error as Error).message}`);
  }
}

// ClickHouse's chooseHTTPCompressionMethod: substring matches in this order of preference.
const preference: readonly ResponseEncoding[] = ["zstd", "br", "lz4", "gzip", "deflate"];

export function chooseResponseEncoding(acceptEncoding: string | undefined): ResponseEncoding | undefined {
  if (!acceptEncoding) return undefined;
  return preference.find((name) => acceptEncoding.includes(name));
}

const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);
const brotliCompress = promisify(zlib.brotliCompress);
const zstdCompress = promisify(zlib.zstdCompress);

// http_zlib_compression_level (1..9, default 3) applies to every method in ClickHouse;
// our lz4 encoder has one (fast) level.
export function encodeResponseBody(body: Buffer, encoding: ResponseEncoding, level: number): Promise<Buffer> {
  switch (encoding) {
    case "gzip":
      return gzip(body, { level });
    case "deflate":
      return deflate(body, { level });
    case "br":
      return brotliCompress(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: level } });
    case "lz4":
      return Promise.resolve(lz4FrameEncode(body));
    case "zstd":
      return zstdCompress(body, { params: { [zlib.constants.ZSTD_c_compressionLevel]: level } });
  }
}
