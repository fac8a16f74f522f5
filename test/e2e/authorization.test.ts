import { randomBytes, randomUUID } from "node:crypto";
import {
  create,
  type DescMethod,
  type DescMethodStreaming,
  type DescMethodUnary,
  type DescService,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { MikroORM } from "@mikro-orm/postgresql";
import { type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/grpc/health/v1/health_pb.ts";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.ts";
import { ServerReflection as ReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { ApiKeyService } from "../../gen/platform/notification/v1/api_key_service_pb.ts";
import { CampaignReportService } from "../../gen/platform/notification/v1/campaign_report_service_pb.ts";
import { CampaignService } from "../../gen/platform/notification/v1/campaign_service_pb.ts";
import { DeviceService } from "../../gen/platform/notification/v1/device_service_pb.ts";
import { ErrorDetailSchema } from "../../gen/platform/notification/v1/errors_pb.ts";
import { InboxService } from "../../gen/platform/notification/v1/inbox_service_pb.ts";
import { MessageService } from "../../gen/platform/notification/v1/message_service_pb.ts";
import { PreferenceService } from "../../gen/platform/notification/v1/preference_service_pb.ts";
import { ProviderService } from "../../gen/platform/notification/v1/provider_service_pb.ts";
import { SegmentService } from "../../gen/platform/notification/v1/segment_service_pb.ts";
import { SendService } from "../../gen/platform/notification/v1/send_service_pb.ts";
import { StatsService } from "../../gen/platform/notification/v1/stats_service_pb.ts";
import { SuppressionService } from "../../gen/platform/notification/v1/suppression_service_pb.ts";
import { TemplateService } from "../../gen/platform/notification/v1/template_service_pb.ts";
import { sharedCipher } from "../support/recipient-cipher.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { localServices } from "../support/services.ts";

type Who = "admin" | "marketer" | "support" | "service" | "user-own" | "user-other" | "anonymous";

const CALLERS: readonly Who[] = [
  "admin",
  "marketer",
  "support",
  "service",
  "user-own",
  "user-other",
  "anonymous",
];
const EVERYONE = CALLERS;
const READERS: readonly Who[] = ["admin", "marketer", "support", "service"];
const WRITERS: readonly Who[] = ["admin", "marketer"];

/**
 * Who gets past authorization on each method, written out by hand from the product's rules
 * rather than read from the protos, so a changed `access` option shows up here as a failure.
 * Every routed method must have an entry.
 */
const EXPECTED: Record<string, readonly Who[]> = {
  "grpc.health.v1.Health/Check": EVERYONE,
  "grpc.health.v1.Health/List": EVERYONE,
  "grpc.health.v1.Health/Watch": EVERYONE,
  "grpc.reflection.v1.ServerReflection/ServerReflectionInfo": EVERYONE,
  "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": EVERYONE,
  "platform.notification.v1.TemplateService/CreateTemplate": WRITERS,
  "platform.notification.v1.TemplateService/GetTemplate": READERS,
  "platform.notification.v1.TemplateService/ListTemplates": READERS,
  "platform.notification.v1.TemplateService/UpdateTemplate": WRITERS,
  "platform.notification.v1.TemplateService/DeleteTemplate": ["admin"],
  "platform.notification.v1.TemplateService/CreateTemplateVersion": WRITERS,
  "platform.notification.v1.TemplateService/ListTemplateVersions": READERS,
  "platform.notification.v1.TemplateService/GetTemplateVersion": READERS,
  "platform.notification.v1.TemplateService/UpdateTemplateVersion": WRITERS,
  "platform.notification.v1.TemplateService/ActivateTemplateVersion": WRITERS,
  "platform.notification.v1.TemplateService/RenderTemplatePreview": READERS,
  "platform.notification.v1.PreferenceService/GetUserPreferences": [
    "admin",
    "support",
    "service",
    "user-own",
  ],
  "platform.notification.v1.PreferenceService/UpdateUserPreferences": ["admin", "service", "user-own"],
  "platform.notification.v1.DeviceService/RegisterDevice": ["admin", "service", "user-own"],
  "platform.notification.v1.DeviceService/ListDevices": ["admin", "support", "service", "user-own"],
  "platform.notification.v1.DeviceService/DeactivateDevice": ["admin", "service", "user-own"],
  "platform.notification.v1.DeviceService/DeleteDevice": ["admin", "service", "user-own"],
  "platform.notification.v1.InboxService/ListInbox": ["admin", "support", "service", "user-own"],
  "platform.notification.v1.InboxService/GetUnreadCount": ["admin", "support", "service", "user-own"],
  // Reading is the user's own act: it records the message as opened.
  "platform.notification.v1.InboxService/MarkRead": ["user-own"],
  "platform.notification.v1.InboxService/MarkUnread": ["user-own"],
  "platform.notification.v1.InboxService/MarkAllRead": ["user-own"],
  "platform.notification.v1.InboxService/Archive": ["admin", "user-own"],
  // A user passes authorization for any message id: whose message it is is known only once it
  // is read, and another user's answers NOT_FOUND (test/e2e/messages.test.ts).
  "platform.notification.v1.MessageService/GetMessage": [
    "admin",
    "support",
    "service",
    "user-own",
    "user-other",
  ],
  "platform.notification.v1.MessageService/ListMessages": ["admin", "support", "service", "user-own"],
  "platform.notification.v1.ApiKeyService/CreateApiKey": ["admin"],
  "platform.notification.v1.ApiKeyService/ListApiKeys": ["admin"],
  "platform.notification.v1.ApiKeyService/RevokeApiKey": ["admin"],
  "platform.notification.v1.SendService/SendDirect": ["admin", "service"],
  "platform.notification.v1.SendService/SendBulk": ["admin", "marketer", "service"],
  "platform.notification.v1.SendService/GetSendProgress": READERS,
  "platform.notification.v1.SendService/CancelScheduledSend": ["admin", "service"],
  // Aggregates over every user: for people's dashboards, not for end users or machine callers.
  "platform.notification.v1.StatsService/GetDeliveryStats": ["admin", "marketer", "support"],
  "platform.notification.v1.SuppressionService/ListSuppressions": ["admin", "support"],
  "platform.notification.v1.SuppressionService/AddSuppression": ["admin"],
  "platform.notification.v1.SuppressionService/LiftSuppression": ["admin"],
  "platform.notification.v1.ProviderService/ListProviders": ["admin", "support"],
  // Campaigns are people's work: marketers and admins make them, support looks.
  "platform.notification.v1.CampaignService/CreateCampaign": WRITERS,
  "platform.notification.v1.CampaignService/GetCampaign": ["admin", "marketer", "support"],
  "platform.notification.v1.CampaignService/ListCampaigns": ["admin", "marketer", "support"],
  "platform.notification.v1.CampaignService/UpdateCampaign": WRITERS,
  "platform.notification.v1.CampaignService/ScheduleCampaign": WRITERS,
  "platform.notification.v1.CampaignService/StartCampaign": WRITERS,
  "platform.notification.v1.CampaignService/PauseCampaign": WRITERS,
  "platform.notification.v1.CampaignService/ResumeCampaign": WRITERS,
  "platform.notification.v1.CampaignService/CompleteCampaign": WRITERS,
  "platform.notification.v1.CampaignService/ArchiveCampaign": WRITERS,
  "platform.notification.v1.CampaignReportService/GetCampaignReport": ["admin", "marketer", "support"],
  // Audiences are campaigns' material: the same people; uploading members takes CreateSegment's
  // roles (test/e2e/segments.test.ts).
  "platform.notification.v1.SegmentService/CreateSegment": WRITERS,
  "platform.notification.v1.SegmentService/GetSegment": ["admin", "marketer", "support"],
  "platform.notification.v1.SegmentService/ListSegments": ["admin", "marketer", "support"],
  "platform.notification.v1.SegmentService/DeleteSegment": WRITERS,
};

/** The services the table knows; a routed service missing here fails the coverage test. */
const KNOWN: readonly DescService[] = [
  Health,
  ReflectionV1,
  ReflectionV1alpha,
  TemplateService,
  PreferenceService,
  DeviceService,
  InboxService,
  MessageService,
  ApiKeyService,
  SendService,
  StatsService,
  SuppressionService,
  ProviderService,
  CampaignService,
  CampaignReportService,
  SegmentService,
];

const OWN_USER = randomUUID();
const OTHER_USER = randomUUID();
const SECRET = randomBytes(32).toString("base64url");
const ISSUER = "https://id.test";
const AUDIENCE = "notification-service";
const BOOTSTRAP_KEY = `nsk_${randomBytes(24).toString("hex")}`;
const API_KEY_CACHE_MS = 500;

const idOf = (method: DescMethod) => `${method.parent.typeName}/${method.name}`;

function jwt(claims: JWTPayload): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(SECRET));
}

async function tokensByCaller(): Promise<Record<Exclude<Who, "anonymous">, string>> {
  return {
    admin: await jwt({ sub: "admin-1", roles: ["admin"] }),
    marketer: await jwt({ sub: "marketer-1", roles: ["marketer"] }),
    support: await jwt({ sub: "support-1", roles: ["support"] }),
    service: await jwt({ sub: "order-service", roles: ["service"] }),
    "user-own": await jwt({ sub: OWN_USER, roles: ["user"] }),
    "user-other": await jwt({ sub: OTHER_USER, roles: ["user"] }),
  };
}

/** The smallest request of a method, always about OWN_USER where the method names a user. */
function requestOf(method: DescMethod): MessageInitShape<DescMethod["input"]> {
  const hasUser = method.input.fields.some((field) => field.name === "user_id");
  return create(method.input, hasUser ? { userId: OWN_USER } : {});
}

async function* once<T>(value: T): AsyncIterable<T> {
  yield value;
}

/** The call's outcome: "ok" or the error code. A stream counts as answered at its first message. */
async function outcome(
  transport: Transport,
  method: DescMethod,
  headers: Record<string, string>,
): Promise<Code | "ok"> {
  try {
    if (method.methodKind === "unary") {
      await transport.unary(method as DescMethodUnary, undefined, 15_000, headers, requestOf(method));
    } else {
      const abort = new AbortController();
      // DescMethod does not narrow on methodKind; the check above is what makes this a stream.
      const response = await transport.stream(
        method as DescMethodStreaming,
        abort.signal,
        15_000,
        headers,
        once(requestOf(method)),
      );
      for await (const _ of response.message) break;
      abort.abort();
    }
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe("authorization: every routed method × every kind of caller", () => {
  let service: ServiceProcess;
  let tokens: Record<Exclude<Who, "anonymous">, string>;
  let connect: Transport;
  let routed: string[];

  const headersOf = (who: Who): Record<string, string> =>
    who === "anonymous" ? {} : { authorization: `Bearer ${tokens[who]}` };

  beforeAll(async () => {
    tokens = await tokensByCaller();
    service = await startServiceProcess({
      role: "api",
      env: {
        AUTH_JWT_HS256_SECRET: SECRET,
        AUTH_JWT_ISSUER: ISSUER,
        AUTH_JWT_AUDIENCE: AUDIENCE,
        // Every call logged, so the searches for secrets in the logs have lines to search.
        LOG_CALLS: "all",
        AUTH_API_KEY_CACHE_MS: String(API_KEY_CACHE_MS),
        AUTH_BOOTSTRAP_ADMIN_KEY: BOOTSTRAP_KEY,
        ...sharedCipher().env,
      },
    });
    const ready = await eventually(async () => (await fetch(`${service.httpUrl}/readyz`)).ok, 30_000);
    expect(ready, service.output()).toBe(true);
    // Connect over HTTP/2 carries every kind of method, bidirectional streams included.
    connect = createConnectTransport({ baseUrl: service.grpcUrl, httpVersion: "2" });
    // What the process routes, as reflection (public, listing every registered service) tells it.
    const reflection = createClient(ReflectionV1, createGrpcTransport({ baseUrl: service.grpcUrl }));
    for await (const answer of reflection.serverReflectionInfo(
      once({ messageRequest: { case: "listServices", value: "" } }),
    )) {
      if (answer.messageResponse.case === "listServicesResponse") {
        routed = answer.messageResponse.value.service.map((each) => each.name);
      }
    }
  });

  afterAll(async () => {
    await service?.stop();
  });

  it("has an expectation for exactly the routed methods", () => {
    const known = new Map(KNOWN.map((each) => [each.typeName, each]));
    const unknown = routed.filter((name) => !known.has(name));
    expect(unknown, "routed services the matrix does not know: add them to KNOWN and EXPECTED").toEqual([]);
    const routedMethods = routed.flatMap((name) => known.get(name)?.methods.map(idOf) ?? []);
    expect(Object.keys(EXPECTED).sort()).toEqual(routedMethods.sort());
  });

  for (const served of KNOWN) {
    for (const method of served.methods) {
      it(`${idOf(method)}: ${(EXPECTED[idOf(method)] ?? []).join(", ") || "nobody"}`, async () => {
        const allowed = EXPECTED[idOf(method)] ?? [];
        const wrong: string[] = [];
        for (const who of CALLERS) {
          const got = await outcome(connect, method, headersOf(who));
          const denial = who === "anonymous" ? Code.Unauthenticated : Code.PermissionDenied;
          const passed = got !== Code.Unauthenticated && got !== Code.PermissionDenied;
          if (allowed.includes(who) ? !passed : got !== denial) {
            wrong.push(`${who}: got ${got === "ok" ? "ok" : Code[got]}`);
          }
        }
        expect(wrong).toEqual([]);
      });
    }
  }

  it("answers 401 and 403 over REST in the platform's error format", async () => {
    const apiKeys = `${service.httpUrl}/api/v1/notifications/api-keys`;
    const anonymous = await fetch(apiKeys);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({
      errors: [
        {
          code: "UNAUTHENTICATED",
          title: "Требуется аутентификация",
          detail: "the method needs credentials",
        },
      ],
    });

    const marketer = await fetch(apiKeys, { headers: { authorization: `Bearer ${tokens.marketer}` } });
    expect(marketer.status).toBe(403);
    expect(await marketer.json()).toEqual({
      errors: [
        {
          code: "PERMISSION_DENIED",
          title: "Недостаточно прав",
          detail: "the method needs one of the roles admin",
        },
      ],
    });

    const devices = `${service.httpUrl}/api/v1/notifications/devices/users/${OWN_USER}`;
    const other = await fetch(devices, { headers: { authorization: `Bearer ${tokens["user-other"]}` } });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { errors: { detail: string }[] }).errors[0]?.detail).toBe(
      "a user may act only on their own data: user_id must be the caller's id",
    );
    const own = await fetch(devices, { headers: { authorization: `Bearer ${tokens["user-own"]}` } });
    expect(own.status).toBe(200);
  });

  it("refuses bad credentials with 401 and a reason, before validation and without echoing them", async () => {
    const apiKeys = `${service.httpUrl}/api/v1/notifications/api-keys`;
    const post = (authorization: string) =>
      fetch(apiKeys, {
        method: "POST",
        headers: { authorization, "content-type": "application/json" },
        body: "{}",
      });
    const expired = await jwt({
      sub: "admin-1",
      roles: ["admin"],
      exp: Math.floor(Date.now() / 1000) - 3600,
    });
    const foreign = await jwt({ sub: "admin-1", roles: ["admin"], iss: "https://elsewhere.test" });
    const cases: [string, string][] = [
      [`Bearer ${expired}`, "the token has expired"],
      [`Bearer ${foreign}`, 'the token\'s "iss" claim is not accepted'],
      [`Bearer ${tokens.admin.slice(0, -4)}AAAA`, "the token's signature does not verify"],
      [`Bearer nsk_${"0".repeat(32)}_${"A".repeat(43)}`, "the API key is unknown"],
      ["Basic YWRtaW46YWRtaW4=", 'the Authorization header must be "Bearer <token>"'],
    ];
    for (const [authorization, detail] of cases) {
      const response = await post(authorization);
      const text = await response.text();
      expect(response.status, authorization).toBe(401);
      expect(JSON.parse(text)).toEqual({
        errors: [{ code: "UNAUTHENTICATED", title: "Требуется аутентификация", detail }],
      });
      expect(text).not.toContain(authorization.slice(7, 40));
    }
  });

  it("answers the same over gRPC, with an ErrorDetail", async () => {
    const transport = createGrpcTransport({ baseUrl: service.grpcUrl });
    const apiKeys = createClient(ApiKeyService, transport);
    const failure = (promise: Promise<unknown>) => promise.then(() => undefined, ConnectError.from);

    const anonymous = await failure(apiKeys.listApiKeys({}));
    expect(anonymous?.code).toBe(Code.Unauthenticated);
    expect(anonymous?.findDetails(ErrorDetailSchema)[0]?.code).toBe("UNAUTHENTICATED");

    const support = await failure(apiKeys.listApiKeys({}, { headers: headersOf("support") }));
    expect(support?.code).toBe(Code.PermissionDenied);
    expect(support?.findDetails(ErrorDetailSchema)[0]?.code).toBe("PERMISSION_DENIED");

    expect(await failure(apiKeys.listApiKeys({}, { headers: headersOf("admin") }))).toBeUndefined();
    expect((await createClient(Health, transport).check({ service: "" })).status).toBe(1);
  });

  describe("API key lifecycle over REST", () => {
    const url = (path = "") => `${service.httpUrl}/api/v1/notifications/api-keys${path}`;
    const asAdmin = () => ({ authorization: `Bearer ${tokens.admin}`, "content-type": "application/json" });
    let created: {
      api_key: { id: string; prefix: string; roles: string[]; created_by: string };
      secret: string;
    };

    it("creates a key and shows its secret once", async () => {
      const response = await fetch(url(), {
        method: "POST",
        headers: asAdmin(),
        body: JSON.stringify({ name: "e2e lifecycle", roles: ["ROLE_ADMIN"] }),
      });
      expect(response.status).toBe(200);
      created = (await response.json()) as typeof created;
      expect(created.secret).toMatch(/^nsk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
      expect(created.secret.startsWith(created.api_key.prefix)).toBe(true);
      expect(created.api_key).toMatchObject({ roles: ["ROLE_ADMIN"], created_by: "admin-1" });
    });

    it("authenticates with it, as a Bearer token or as X-Api-Key, and lists keys without secrets", async () => {
      for (const headers of [
        { authorization: `Bearer ${created.secret}` },
        { "x-api-key": created.secret },
      ]) {
        const response = await fetch(url(), { headers });
        const text = await response.text();
        expect(response.status).toBe(200);
        expect(text).not.toContain(created.secret.slice(-43));
        expect(text).not.toMatch(/secret|hash/i);
        const listed = (JSON.parse(text) as { api_keys: { id: string }[] }).api_keys;
        expect(listed.map((key) => key.id)).toContain(created.api_key.id);
      }
    });

    it("applies the key's roles", async () => {
      const response = await fetch(url(), {
        method: "POST",
        headers: { ...asAdmin(), authorization: `Bearer ${created.secret}` },
        body: JSON.stringify({ name: "e2e service", roles: ["ROLE_SERVICE"] }),
      });
      const serviceKey = ((await response.json()) as typeof created).secret;
      const denied = await fetch(url(), { headers: { "x-api-key": serviceKey } });
      expect(denied.status).toBe(403);
    });

    it("refuses the key within the cache bound once it is revoked", async () => {
      const revoked = await fetch(url(`/${created.api_key.id}:revoke`), {
        method: "POST",
        headers: asAdmin(),
        body: "{}",
      });
      expect(revoked.status).toBe(200);
      expect(((await revoked.json()) as { revoke_time?: string }).revoke_time).toBeTruthy();
      const revokedAt = Date.now();

      let detail = "";
      const inTime = await eventually(async () => {
        const response = await fetch(url(), { headers: { "x-api-key": created.secret } });
        if (response.status !== 401) return false;
        detail = ((await response.json()) as { errors: { detail: string }[] }).errors[0]?.detail ?? "";
        return true;
      }, API_KEY_CACHE_MS + 2_000);
      expect(inTime).toBe(true);
      expect(Date.now() - revokedAt).toBeLessThan(API_KEY_CACHE_MS + 2_000);
      expect(detail).toBe("the API key has been revoked");

      const active = (await (await fetch(url(), { headers: asAdmin() })).json()) as {
        api_keys?: { id: string }[];
      };
      expect((active.api_keys ?? []).map((key) => key.id)).not.toContain(created.api_key.id);
      const all = (await (await fetch(url("?include_inactive=true"), { headers: asAdmin() })).json()) as {
        api_keys: { id: string; revoke_time?: string }[];
      };
      expect(all.api_keys.find((key) => key.id === created.api_key.id)?.revoke_time).toBeTruthy();
    });

    it("answers 404 for revoking an unknown key", async () => {
      const response = await fetch(url(`/${randomUUID()}:revoke`), {
        method: "POST",
        headers: asAdmin(),
        body: "{}",
      });
      expect(response.status).toBe(404);
    });

    it("records every write in the audit log, never the secret or its hash", async () => {
      const orm = await MikroORM.init({
        clientUrl: localServices().databaseUrl,
        entities: [],
        discovery: { warnWhenNoEntities: false },
      });
      try {
        const connection = orm.em.getConnection();
        const rows = await connection.execute<{ action: string; actor_type: string; actor_id: string }[]>(
          "SELECT action, actor_type, actor_id, before::text, after::text FROM audit_log WHERE resource_id = ? ORDER BY id",
          [created.api_key.id],
        );
        expect(rows.map((row) => [row.action, row.actor_type, row.actor_id])).toEqual([
          ["api_key.create", "jwt", "admin-1"],
          ["api_key.revoke", "jwt", "admin-1"],
        ]);
        const [stored] = await connection.execute<{ secret_hash: string }[]>(
          "SELECT secret_hash FROM api_keys WHERE id = ?",
          [created.api_key.id],
        );
        const text = JSON.stringify(rows);
        expect(text).not.toContain(created.secret.slice(-43));
        expect(stored?.secret_hash).toHaveLength(64);
        expect(text).not.toContain(stored?.secret_hash);
      } finally {
        await orm.close(true);
      }
    });

    it("accepts the bootstrap admin key, and logs no token, key or secret", async () => {
      expect((await fetch(url(), { headers: { "x-api-key": BOOTSTRAP_KEY } })).status).toBe(200);
      // The search below means something only if the lines about these calls are there.
      const listed = await eventually(
        async () =>
          service.logs.filter(
            (line) =>
              line.message === "rpc" &&
              line.procedure === "platform.notification.v1.ApiKeyService/ListApiKeys" &&
              line.code === "ok",
          ).length > 0,
        5_000,
      );
      expect(listed, service.output()).toBe(true);
      expect(service.logs.some((line) => line.message === "rpc" && line.code === "Unauthenticated")).toBe(
        true,
      );
      const output = service.output();
      for (const secret of [BOOTSTRAP_KEY, SECRET, created.secret, ...Object.values(tokens)]) {
        expect(output).not.toContain(secret);
      }
    });
  });
});
