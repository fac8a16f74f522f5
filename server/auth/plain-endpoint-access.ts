import type { DescMethod } from "@bufbuild/protobuf";
import type { Caller } from "../../core/caller.ts";
import { accessRuleOf, decideAccess } from "./access-policy.ts";
import type { Authenticator } from "./authenticator.ts";
import { denialOf } from "./authorization-interceptor.ts";

/**
 * Who calls a plain HTTP endpoint (one outside the contracts, such as a streamed upload),
 * checked as the API checks `method`: the same authenticator, and that method's `access`
 * option, so the endpoint's roles stay declared in the protos. Throws UNAUTHENTICATED or
 * PERMISSION_DENIED as every surface does.
 */
export function plainEndpointAccess(
  authenticate: Authenticator,
  method: DescMethod,
  publicServices: readonly string[],
): (headers: Headers) => Promise<Caller> {
  const rule = accessRuleOf(method, publicServices);
  return async (headers) => {
    const caller = await authenticate(headers);
    const decision = decideAccess(rule, caller, undefined);
    if (!decision.allowed) throw denialOf(decision);
    return caller;
  };
}
