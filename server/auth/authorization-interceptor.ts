import type { DescMethod, Message } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import { callerKey } from "../api/caller-context.ts";
import { type AccessDecision, type AccessRule, accessRuleOf, decideAccess } from "./access-policy.ts";

/**
 * Enforces the `access` option of the called method with the caller that authentication set.
 * Runs for every routed method; one without a policy is closed unless its service is public.
 */
export function authorizationInterceptor(publicServices: readonly string[]): Interceptor {
  const rules = new Map<DescMethod, AccessRule>();
  const ruleOf = (method: DescMethod) => {
    let rule = rules.get(method);
    if (!rule) {
      rule = accessRuleOf(method, publicServices);
      rules.set(method, rule);
    }
    return rule;
  };
  return (next) => async (request) => {
    const decision = decideAccess(
      ruleOf(request.method),
      request.contextValues.get(callerKey),
      request.stream ? undefined : (request.message as Message),
    );
    if (!decision.allowed) throw denialOf(decision);
    return next(request);
  };
}

/** The error a refused call fails with, on the API's surfaces and on plain endpoints alike. */
export function denialOf(decision: AccessDecision & { allowed: false }): DomainError {
  const entry =
    decision.denial === "unauthenticated" ? ErrorCatalog.unauthenticated : ErrorCatalog.permissionDenied;
  return new DomainError(entry, decision.reason);
}
