import {
  create,
  createFileRegistry,
  type DescMethod,
  type DescService,
  type MessageInitShape,
  setExtension,
} from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  file_google_protobuf_descriptor,
  MethodOptionsSchema,
} from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ANONYMOUS, type Caller } from "../../../../core/caller.ts";
import { Health } from "../../../../gen/grpc/health/v1/health_pb.ts";
import { ServerReflection } from "../../../../gen/grpc/reflection/v1/reflection_pb.ts";
import {
  AccessPolicySchema,
  access,
  file_platform_notification_v1_access,
  Role,
} from "../../../../gen/platform/notification/v1/access_pb.ts";
import { ApiKeyService } from "../../../../gen/platform/notification/v1/api_key_service_pb.ts";
import {
  DeviceService,
  RegisterDeviceRequestSchema,
} from "../../../../gen/platform/notification/v1/device_service_pb.ts";
import {
  PreferenceService,
  UpdateUserPreferencesRequestSchema,
} from "../../../../gen/platform/notification/v1/preference_service_pb.ts";
import { TemplateService } from "../../../../gen/platform/notification/v1/template_service_pb.ts";
import {
  AccessPolicyError,
  type AccessRule,
  accessRuleOf,
  checkAccessPolicies,
  decideAccess,
  ruleOfPolicy,
} from "../../../../server/auth/access-policy.ts";
import { PUBLIC_SERVICES } from "../../../../server/reflection/reflection.service.ts";

type PolicyInit = MessageInitShape<typeof AccessPolicySchema>;

const OWN = "3f2c4c1e-8d0a-4c4e-9a57-0f3f0c2b9a11";
const OTHER = "9b1d6a70-2f4e-4d59-8c1c-6a2b5e7d3c44";
const as = (roles: Caller["roles"], subject = "someone"): Caller => ({ subject, roles, via: "jwt" });

function method(service: DescService, name: string): DescMethod {
  const found = service.methods.find((each) => each.name === name);
  if (!found) throw new Error(`${service.typeName} has no ${name}`);
  return found;
}

/** A service whose methods carry the given policies (undefined: no `access` option at all). */
function serviceWith(policies: Record<string, PolicyInit | undefined>): DescService {
  const methods = Object.entries(policies).map(([name, policy]) => {
    const options = create(MethodOptionsSchema);
    if (policy) setExtension(options, access, create(AccessPolicySchema, policy));
    return {
      name,
      inputType: ".platform.notification.v1.AccessPolicy",
      outputType: ".platform.notification.v1.AccessPolicy",
      options,
    };
  });
  const file = create(FileDescriptorProtoSchema, {
    name: "test/synthetic.proto",
    package: "test",
    syntax: "proto3",
    dependency: ["platform/notification/v1/access.proto"],
    service: [{ name: "Synthetic", method: methods }],
  });
  const imports = [file_platform_notification_v1_access, file_google_protobuf_descriptor];
  const registry = createFileRegistry(file, (name) => imports.find((each) => each.proto.name === name));
  const service = registry.getService("test.Synthetic");
  if (!service) throw new Error("synthetic service missing");
  return service;
}

describe("access rules from the protos", () => {
  it("reads every routed method's policy without a problem", () => {
    const handlers = [
      Health,
      TemplateService,
      PreferenceService,
      DeviceService,
      ApiKeyService,
      ServerReflection,
    ]
      .flatMap((service) => service.methods)
      .map((each) => ({ method: each }));
    expect(() => checkAccessPolicies(handlers, PUBLIC_SERVICES)).not.toThrow();
  });

  it("makes reflection public through the list, and closes a method without a policy", () => {
    const reflect = method(ServerReflection, "ServerReflectionInfo");
    expect(accessRuleOf(reflect, PUBLIC_SERVICES)).toEqual({ kind: "public" });
    expect(accessRuleOf(reflect, [])).toEqual({ kind: "closed" });
    const bare = serviceWith({ Nothing: undefined });
    expect(accessRuleOf(method(bare, "Nothing"), PUBLIC_SERVICES)).toEqual({ kind: "closed" });
  });

  it("resolves the owner field, also through a message field", () => {
    const rule = accessRuleOf(method(DeviceService, "RegisterDevice"), []);
    expect(rule).toMatchObject({ kind: "roles", owner: { name: "user_id" } });
    const nested = ruleOfPolicy(
      method(PreferenceService, "UpdateUserPreferences"),
      create(AccessPolicySchema, { roles: [Role.USER], ownerField: "preferences.user_id" }),
    );
    expect(nested).toMatchObject({ owner: { name: "preferences.user_id" } });
  });

  it.each<[string, PolicyInit, RegExp]>([
    ["public with roles", { public: true, roles: [Role.ADMIN] }, /public method takes no roles/],
    ["no roles, not public", {}, /nobody could call it/],
    ["an undefined role", { roles: [Role.ADMIN, 42 as Role] }, /role 42 is not a defined role/],
    ["ROLE_UNSPECIFIED", { roles: [Role.UNSPECIFIED] }, /role 0 is not a defined role/],
    [
      "owner_field without ROLE_USER",
      { roles: [Role.ADMIN], ownerField: "user_id" },
      /ROLE_USER is not among/,
    ],
    ["owner_field naming no field", { roles: [Role.USER], ownerField: "owner" }, /has no field "owner"/],
    ["owner_field on an enum", { roles: [Role.USER], ownerField: "platform" }, /must name a string field/],
    ["owner_field through a scalar", { roles: [Role.USER], ownerField: "user_id.x" }, /not a message field/],
  ])("refuses a malformed policy: %s", (_, policy, problem) => {
    const register = method(DeviceService, "RegisterDevice");
    expect(() => ruleOfPolicy(register, create(AccessPolicySchema, policy))).toThrow(problem);
  });

  it("refuses owner_field on a streaming method", () => {
    const watch = method(Health, "Watch");
    expect(() =>
      ruleOfPolicy(watch, create(AccessPolicySchema, { roles: [Role.USER], ownerField: "service" })),
    ).toThrow(/needs a unary method/);
  });

  it("fails the start with every malformed policy named", () => {
    const service = serviceWith({
      Good: { roles: [Role.ADMIN] },
      Empty: {},
      Both: { public: true, roles: [1] },
    });
    const error = (() => {
      try {
        checkAccessPolicies(
          service.methods.map((each) => ({ method: each })),
          [],
        );
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(AccessPolicyError);
    expect((error as AccessPolicyError).problems).toEqual([
      "test.Synthetic.Empty: no roles and not public: nobody could call it",
      "test.Synthetic.Both: a public method takes no roles or owner_field",
    ]);
  });
});

describe("the access decision", () => {
  const register = accessRuleOf(method(DeviceService, "RegisterDevice"), []);
  const templates = accessRuleOf(method(TemplateService, "CreateTemplate"), []);
  const request = (userId: string) => create(RegisterDeviceRequestSchema, { userId });

  it("lets anyone call a public method, credentials or not", () => {
    const rule: AccessRule = { kind: "public" };
    expect(decideAccess(rule, ANONYMOUS, undefined)).toEqual({ allowed: true });
    expect(decideAccess(rule, as(["user"]), undefined)).toEqual({ allowed: true });
  });

  it("denies everyone on a closed method", () => {
    for (const caller of [ANONYMOUS, as(["admin"])]) {
      expect(decideAccess({ kind: "closed" }, caller, undefined)).toMatchObject({
        allowed: false,
        denial: "permission_denied",
      });
    }
  });

  it("asks an anonymous caller to authenticate on any other method", () => {
    expect(decideAccess(templates, ANONYMOUS, undefined)).toEqual({
      allowed: false,
      denial: "unauthenticated",
      reason: "the method needs credentials",
    });
  });

  it("allows a listed role and denies the others, naming the roles needed", () => {
    expect(decideAccess(templates, as(["marketer"]), undefined)).toEqual({ allowed: true });
    expect(decideAccess(templates, as(["support", "service"]), undefined)).toEqual({
      allowed: false,
      denial: "permission_denied",
      reason: "the method needs one of the roles admin, marketer",
    });
  });

  it("lets a user act on their own data only", () => {
    expect(decideAccess(register, as(["user"], OWN), request(OWN))).toEqual({ allowed: true });
    expect(decideAccess(register, as(["user"], OTHER), request(OWN))).toMatchObject({
      allowed: false,
      denial: "permission_denied",
      reason: "a user may act only on their own data: user_id must be the caller's id",
    });
    expect(decideAccess(register, as(["user"], ""), request(""))).toMatchObject({ allowed: false });
  });

  it("does not hold other roles to the owner check", () => {
    expect(decideAccess(register, as(["service"], OTHER), request(OWN))).toEqual({ allowed: true });
    expect(decideAccess(register, as(["user", "admin"], OTHER), request(OWN))).toEqual({ allowed: true });
    expect(decideAccess(register, as(["support"], OTHER), request(OWN))).toMatchObject({ allowed: false });
  });

  it("reads a nested owner field, and treats an unset parent as not owned", () => {
    const rule = ruleOfPolicy(
      method(PreferenceService, "UpdateUserPreferences"),
      create(AccessPolicySchema, { roles: [Role.USER], ownerField: "preferences.user_id" }),
    );
    const withOwner = create(UpdateUserPreferencesRequestSchema, { preferences: { userId: OWN } });
    expect(decideAccess(rule, as(["user"], OWN), withOwner)).toEqual({ allowed: true });
    const without = create(UpdateUserPreferencesRequestSchema, { userId: OWN });
    expect(decideAccess(rule, as(["user"], OWN), without)).toMatchObject({ allowed: false });
  });

  it("lets a user call a user method that has no owner field", () => {
    const rule: AccessRule = { kind: "roles", roles: new Set(["user"]) };
    expect(decideAccess(rule, as(["user"], OWN), undefined)).toEqual({ allowed: true });
  });
});
