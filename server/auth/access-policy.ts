import {
  type DescField,
  type DescMethod,
  getOption,
  hasOption,
  type Message,
  ScalarType,
} from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import type { Caller, Role } from "../../core/caller.ts";
import { type AccessPolicy, access } from "../../gen/platform/notification/v1/access_pb.ts";
import { roleOfProto } from "../../mappers/index.ts";

/** A method's access policy, checked and resolved once. */
export type AccessRule =
  | { kind: "public" }
  | { kind: "roles"; roles: ReadonlySet<Role>; owner?: OwnerField }
  /** No policy declared: nobody may call it. */
  | { kind: "closed" };

/** The request field a ROLE_USER caller must own: its dotted name and the fields along the path. */
export interface OwnerField {
  name: string;
  path: readonly DescField[];
}

export type AccessDecision =
  | { allowed: true }
  | { allowed: false; denial: "unauthenticated" | "permission_denied"; reason: string };

export class AccessPolicyError extends Error {
  constructor(readonly problems: string[]) {
    super(`malformed access policies:\n  - ${problems.join("\n  - ")}`);
    this.name = "AccessPolicyError";
  }
}

/** The method's rule from its `access` option; services named in `publicServices` need none. */
export function accessRuleOf(method: DescMethod, publicServices: readonly string[]): AccessRule {
  if (!hasOption(method, access)) {
    return publicServices.includes(method.parent.typeName) ? { kind: "public" } : { kind: "closed" };
  }
  return ruleOfPolicy(method, getOption(method, access));
}

/** Checks the policy of every routed method at start, so a malformed one stops the process, not a call. */
export function checkAccessPolicies(
  handlers: Iterable<{ method: DescMethod }>,
  publicServices: readonly string[],
): void {
  const problems: string[] = [];
  for (const { method } of handlers) {
    try {
      accessRuleOf(method, publicServices);
    } catch (error) {
      if (!(error instanceof AccessPolicyError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new AccessPolicyError(problems);
}

export function ruleOfPolicy(method: DescMethod, policy: AccessPolicy): AccessRule {
  const name = `${method.parent.typeName}.${method.name}`;
  const fail = (problem: string) => new AccessPolicyError([`${name}: ${problem}`]);
  if (policy.public) {
    if (policy.roles.length > 0 || policy.ownerField)
      throw fail("a public method takes no roles or owner_field");
    return { kind: "public" };
  }
  if (policy.roles.length === 0) throw fail("no roles and not public: nobody could call it");
  const roles = new Set<Role>();
  for (const protoRole of policy.roles) {
    const role = roleOfProto(protoRole);
    if (!role) throw fail(`role ${protoRole} is not a defined role`);
    roles.add(role);
  }
  if (!policy.ownerField) return { kind: "roles", roles };
  if (!roles.has("user")) throw fail("owner_field is set but ROLE_USER is not among the roles");
  // The owner is read from the request message, which a stream does not have when it starts.
  if (method.methodKind !== "unary") throw fail("owner_field needs a unary method");
  return {
    kind: "roles",
    roles,
    owner: { name: policy.ownerField, path: ownerPath(method, policy.ownerField, fail) },
  };
}

function ownerPath(method: DescMethod, dotted: string, fail: (problem: string) => Error): DescField[] {
  const path: DescField[] = [];
  let message = method.input;
  const names = dotted.split(".");
  for (const [index, name] of names.entries()) {
    const field = message.fields.find((each) => each.name === name);
    if (!field) throw fail(`owner_field "${dotted}": ${message.typeName} has no field "${name}"`);
    path.push(field);
    if (index === names.length - 1) {
      if (field.fieldKind !== "scalar" || field.scalar !== ScalarType.STRING) {
        throw fail(`owner_field "${dotted}" must name a string field`);
      }
    } else if (field.fieldKind === "message") {
      message = field.message;
    } else {
      throw fail(`owner_field "${dotted}": "${name}" is not a message field`);
    }
  }
  return path;
}

/**
 * Whether `caller` may make a call under `rule`. A caller passes on any of the rule's roles
 * other than ROLE_USER; as a user, only on a request whose owner field is its own subject.
 * `request` is the request message, or undefined for a stream.
 */
export function decideAccess(rule: AccessRule, caller: Caller, request: Message | undefined): AccessDecision {
  if (rule.kind === "public") return { allowed: true };
  if (rule.kind === "closed") {
    return { allowed: false, denial: "permission_denied", reason: "the method declares no access policy" };
  }
  if (caller.via === "anonymous") {
    return { allowed: false, denial: "unauthenticated", reason: "the method needs credentials" };
  }
  if (caller.roles.some((role) => role !== "user" && rule.roles.has(role))) return { allowed: true };
  if (caller.roles.includes("user") && rule.roles.has("user")) {
    if (!rule.owner) return { allowed: true };
    const owner = request === undefined ? undefined : ownerOf(request, rule.owner);
    if (owner !== undefined && owner !== "" && owner === caller.subject) return { allowed: true };
    return {
      allowed: false,
      denial: "permission_denied",
      reason: `a user may act only on their own data: ${rule.owner.name} must be the caller's id`,
    };
  }
  return {
    allowed: false,
    denial: "permission_denied",
    reason: `the method needs one of the roles ${[...rule.roles].join(", ")}`,
  };
}

function ownerOf(request: Message, owner: OwnerField): string | undefined {
  const [first] = owner.path;
  if (!first) return undefined;
  let current: ReflectMessage = reflect(first.parent, request);
  for (const field of owner.path.slice(0, -1)) {
    if (!current.isSet(field)) return undefined;
    current = current.get(field) as ReflectMessage;
  }
  const last = owner.path.at(-1);
  const value = last ? current.get(last) : undefined;
  return typeof value === "string" ? value : undefined;
}
