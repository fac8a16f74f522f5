import { createContextKey } from "@connectrpc/connect";

/** Which of our four API surfaces a call came through, for logs and metrics. */
export type ApiSurface = "connect" | "grpc" | "grpc-web" | "rest";

/** Set by the REST transcoder; every other call is told apart by its content type. */
export const restSurfaceKey = createContextKey<boolean>(false, { description: "call arrived over REST" });

export function surfaceOf(contentType: string | null, viaRest: boolean): ApiSurface {
  if (viaRest) return "rest";
  if (contentType?.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType?.startsWith("application/grpc")) return "grpc";
  return "connect";
}
