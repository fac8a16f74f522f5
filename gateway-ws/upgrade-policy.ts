import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

/**
 * Whether a WebSocket may be opened from `origin`. Browsers always send Origin, so a page of
 * another site can only reach the gateway from an origin on the list ("*" allows any); a
 * client that is not a browser sends none and is let through to authenticate like any other.
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  return allowed.includes("*") || allowed.includes(origin);
}

/** The subprotocols a client offered in Sec-WebSocket-Protocol. */
export function offeredSubprotocols(request: IncomingMessage): Set<string> {
  const header = request.headers["sec-websocket-protocol"];
  if (!header) return new Set();
  return new Set(
    header
      .split(",")
      .map((protocol) => protocol.trim())
      .filter(Boolean),
  );
}

/** Answers an upgrade that is refused with a plain HTTP response, and closes the socket. */
export function refuseUpgrade(
  socket: Duplex,
  status: 400 | 403 | 404 | 503,
  text: string,
  headers: Record<string, string> = {},
): void {
  const reason = { 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 503: "Service Unavailable" }[
    status
  ];
  const body = `${text}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    "Connection: close",
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
}
