import type { Role } from "../core/caller.ts";
import { Role as ProtoRole } from "../gen/platform/notification/v1/access_pb.ts";

const PROTO_ROLE_OF: Record<Role, ProtoRole> = {
  admin: ProtoRole.ADMIN,
  marketer: ProtoRole.MARKETER,
  support: ProtoRole.SUPPORT,
  service: ProtoRole.SERVICE,
  user: ProtoRole.USER,
};

const ROLE_OF_PROTO = new Map<ProtoRole, Role>(
  Object.entries(PROTO_ROLE_OF).map(([role, proto]) => [proto, role as Role]),
);

/** Whether a name from a JWT's "roles" claim is one of our roles. */
export function isRole(name: unknown): name is Role {
  return typeof name === "string" && Object.hasOwn(PROTO_ROLE_OF, name);
}

export function protoRoleOf(role: Role): ProtoRole {
  return PROTO_ROLE_OF[role];
}

/** Undefined for ROLE_UNSPECIFIED and numbers the enum does not define. */
export function roleOfProto(role: ProtoRole): Role | undefined {
  return ROLE_OF_PROTO.get(role);
}
