import type { Interceptor } from "@connectrpc/connect";
import { callerKey } from "../api/caller-context.ts";
import type { Authenticator } from "./authenticator.ts";

/** Sets the caller of every call, on every surface, before authorization and validation look at it. */
export function authenticationInterceptor(authenticate: Authenticator): Interceptor {
  return (next) => async (request) => {
    request.contextValues.set(callerKey, await authenticate(request.header));
    return next(request);
  };
}
