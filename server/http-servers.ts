import * as http from "node:http";
import * as http2 from "node:http2";
import type { Socket } from "node:net";
import { DomainError, ErrorCatalog } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { writeRestError } from "./api/error-mapping.ts";

export type Request = http.IncomingMessage | http2.Http2ServerRequest;
export type Response = http.ServerResponse | http2.Http2ServerResponse;
export type RequestHandler = (request: Request, response: Response) => Promise<void>;

/** A request's headers as the authenticator reads them (HTTP/2's pseudo-headers left out). */
export function headersOf(request: Request): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const each of Array.isArray(value) ? value : [value]) headers.append(name, each);
  }
  return headers;
}

/** A listening server that can stop taking work and wait, up to a deadline, for what it has. */
export interface RunningServer {
  name: string;
  url: string;
  /** Resolves true when every in-flight request finished before the deadline. */
  drain(deadline: number): Promise<boolean>;
}

function guarded(handler: RequestHandler, logger: Logger) {
  return (request: Request, response: Response) => {
    handler(request, response).catch((error: unknown) => {
      logger.error({ err: error, path: request.url?.split("?", 1)[0] }, "request failed");
      if (!response.headersSent) {
        writeRestError(
          response,
          new DomainError(ErrorCatalog.internal, "the request could not be completed"),
        );
      } else {
        response.end();
      }
    });
  };
}

// Node's default of 511 pending connections overflows when thousands of clients reconnect at
// once (a gateway restart): the kernel drops their handshakes and they wait on TCP's retry
// timers. The kernel caps it at net.core.somaxconn.
const LISTEN_BACKLOG = 8192;

function listen(server: http.Server | http2.Http2Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** HTTP/1.1: REST, Connect and gRPC-Web, plus the ops endpoints. */
export async function startHttp1Server(
  name: string,
  host: string,
  port: number,
  handler: RequestHandler,
  logger: Logger,
  onUpgrade?: (request: http.IncomingMessage, socket: Socket, head: Buffer) => void,
): Promise<RunningServer & { server: http.Server }> {
  const server = http.createServer({ keepAliveTimeout: 5_000 }, guarded(handler, logger));
  if (onUpgrade) server.on("upgrade", onUpgrade);
  let active = 0;
  server.on("request", (_request, response: http.ServerResponse) => {
    active++;
    response.once("close", () => active--);
  });
  await listen(server, host, port);
  return {
    name,
    server,
    url: `http://${host}:${port}`,
    async drain(deadline) {
      server.close();
      server.closeIdleConnections();
      const finished = await waitFor(() => active === 0, deadline);
      server.closeAllConnections();
      return finished;
    },
  };
}

/** Cleartext HTTP/2 (h2c): gRPC, and Connect and gRPC-Web for clients that speak HTTP/2. */
export async function startH2cServer(
  name: string,
  host: string,
  port: number,
  handler: RequestHandler,
  logger: Logger,
): Promise<RunningServer> {
  const server = http2.createServer({}, guarded(handler, logger));
  const sessions = new Set<http2.Http2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  await listen(server, host, port);
  return {
    name,
    url: `http://${host}:${port}`,
    async drain(deadline) {
      server.close();
      // GOAWAY: clients open no new streams here; streams already open run to their end.
      for (const session of sessions) session.close();
      const finished = await waitFor(() => sessions.size === 0, deadline);
      for (const session of sessions) session.destroy();
      return finished;
    },
  };
}

async function waitFor(condition: () => boolean, deadline: number): Promise<boolean> {
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
