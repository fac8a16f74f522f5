import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";

type AnyResponse = ServerResponse | Http2ServerResponse;

export function writeText(response: AnyResponse, status: number, contentType: string, text: string): void {
  response.statusCode = status;
  response.setHeader("content-type", contentType);
  response.setHeader("content-length", Buffer.byteLength(text));
  response.end(text);
}

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

export function writeJson(response: AnyResponse, status: number, body: unknown): void {
  writeText(response, status, JSON_CONTENT_TYPE, JSON.stringify(body));
}
