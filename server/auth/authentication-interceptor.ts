import type { DescMethod } from "@bufbuild/protobuf";
import { type ContextValues, createContextKey, type Interceptor } from "@connectrpc/connect";
import type { Caller } from "../../core/caller.ts";
import { callerKey } from "../api/caller-context.ts";
import { accessRuleOf } from "./access-policy.ts";
import type { Authenticator } from "./authenticator.ts";

/**
 * The caller of a call whose authentication began before the RPC, so a REST request is
 * answered 401 before its body is read. A rejected promise is the authentication's error,
 * thrown by the interceptor below: every surface fails, logs and counts it the same way.
 */
const earlyCallerKey = createContextKey<Promise<Caller> | undefined>(undefined, {
  description: "authentication begun before the RPC",
});

/** Sets the caller of every call, on every surface, before authorization and validation look at it. */
export function authenticationInterceptor(authenticate: Authenticator): Interceptor {
  return (next) => async (request) => {
    const early = request.contextValues.get(earlyCallerKey);
    request.contextValues.set(callerKey, await (early ?? authenticate(request.header)));
    return next(request);
  };
}

/**
 * Authenticates a call before its request is read, with the same authenticator, and leaves
 * the result for the interceptor. Resolves false when the call will be refused whatever its
 * request says (a bad credential, or none for a method that needs one): reading and decoding
 * the body would only tell an anonymous caller about its errors before the 401.
 */
export function authenticateEarly(authenticate: Authenticator, publicServices: readonly string[]) {
  const publicMethods = new WeakMap<DescMethod, boolean>();
  const isPublic = (method: DescMethod) => {
    let known = publicMethods.get(method);
    if (known === undefined) {
      known = accessRuleOf(method, publicServices).kind === "public";
      publicMethods.set(method, known);
    }
    return known;
  };
  return async (method: DescMethod, header: Headers, values: ContextValues): Promise<boolean> => {
    const caller = authenticate(header);
    values.set(earlyCallerKey, caller);
    try {
      return (await caller).via !== "anonymous" || isPublic(method);
    } catch {
      // Thrown again by the interceptor, as the call's error.
      return false;
    }
  };
}
