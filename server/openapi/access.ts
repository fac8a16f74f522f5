import { type DescMethod, getOption, hasOption } from "@bufbuild/protobuf";
import { access, RoleSchema } from "../../gen/platform/notification/v1/access_pb.ts";
import type { Operation, SecurityScheme } from "./openapi-types.ts";

export const SECURITY_SCHEMES: Record<string, SecurityScheme> = {
  bearerAuth: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A JWT of the platform with a `roles` claim, or an API key's secret.",
  },
  apiKeyAuth: {
    type: "apiKey",
    in: "header",
    name: "X-Api-Key",
    description: "An API key's secret (API keys are made by admins through ApiKeyService).",
  },
};

/** Who may call the method, from its `access` option: security requirements and x- extensions. */
export function accessOf(rpc: DescMethod): Pick<Operation, "security" | "x-roles" | "x-owner-field"> {
  const policy = hasOption(rpc, access) ? getOption(rpc, access) : undefined;
  if (policy?.public) return { security: [] };
  const roles = (policy?.roles ?? []).map(roleName);
  return {
    security: Object.keys(SECURITY_SCHEMES).map((scheme) => ({ [scheme]: [] })),
    "x-roles": roles,
    ...(policy?.ownerField ? { "x-owner-field": policy.ownerField } : {}),
  };
}

/** ROLE_ADMIN → "admin", as roles are written in JWT claims and API keys. */
function roleName(role: number): string {
  const value = RoleSchema.values.find((candidate) => candidate.number === role);
  return (value?.localName ?? String(role)).toLowerCase();
}
