import { randomUUID } from "node:crypto";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/platform/notification/v1/api_key_service_pb.ts";
import { AUTH_ENV, authHeaders, authInterceptor } from "../support/credentials.ts";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { type Outcome, restCaller, rpcCaller, transportsOf } from "../support/surfaces.ts";

// What holds for the API as a whole, whatever the service: API keys behave the same on
// every surface, the HTTP exchange's own errors have the platform's body, and one call
// runs the interceptors once.
let service: ServiceProcess;

beforeAll(async () => {
  // LOG_CALLS=all: the last test reads the line of a successful call.
  service = await startServiceProcess({ env: { ...AUTH_ENV, REQUEST_MAX_BYTES: "4096", LOG_CALLS: "all" } });
});

afterAll(async () => {
  await service?.stop();
});

interface ApiKeyApi {
  create(request: JsonObject): Promise<Outcome>;
  list(includeInactive: boolean): Promise<Outcome>;
  revoke(id: string): Promise<Outcome>;
}

describe("ApiKeyService on every surface", () => {
  it("gives the same answers over Connect, gRPC, gRPC-Web and REST", async () => {
    const transports = transportsOf(service, [authInterceptor("admin-1", ["admin"])]);
    const rest = restCaller(service.httpUrl, authHeaders("admin-1", ["admin"]));
    const apis: Record<string, ApiKeyApi> = {
      rest: {
        create: (request) => rest("POST", "/api-keys", request),
        list: (includeInactive) => rest("GET", `/api-keys?include_inactive=${includeInactive}`),
        revoke: (id) => rest("POST", `/api-keys/${id}:revoke`, {}),
      },
    };
    for (const [surface, transport] of Object.entries(transports)) {
      const call = rpcCaller(ApiKeyService, transport);
      apis[surface] = {
        create: (request) => call("createApiKey", request),
        list: (includeInactive) => call("listApiKeys", { include_inactive: includeInactive }),
        revoke: (id) => call("revokeApiKey", { api_key_id: id }),
      };
    }

    const transcripts: Record<string, JsonValue[]> = {};
    for (const [surface, api] of Object.entries(apis)) {
      const name = `surfaces ${randomUUID()}`;
      const created = (await api.create({ name, roles: ["ROLE_SERVICE", "ROLE_SUPPORT"] })) as JsonObject;
      const key = created.api_key as JsonObject;
      const mine = (listing: Outcome) =>
        ((listing as JsonObject).api_keys as JsonObject[]).filter((each) => each.name === name);
      transcripts[surface] = normalize([
        created,
        await api.create({ name, roles: [] }),
        await api.create({ name, roles: ["ROLE_ADMIN"], expire_time: "2001-01-01T00:00:00Z" }),
        mine(await api.list(false)),
        await api.revoke(String(key.id)),
        mine(await api.list(false)),
        mine(await api.list(true)),
        await api.revoke(randomUUID()),
      ]) as JsonValue[];
    }
    for (const surface of ["grpc", "grpc-web", "rest"])
      expect(transcripts[surface], surface).toEqual(transcripts.connect);
    expect(transcripts.connect).toMatchObject([
      { api_key: { roles: ["ROLE_SERVICE", "ROLE_SUPPORT"] }, secret: "<secret>" },
      { error: "VALIDATION_ERROR" },
      { error: "VALIDATION_ERROR" },
      [{ roles: ["ROLE_SERVICE", "ROLE_SUPPORT"] }],
      { revoke_time: "<set>" },
      [],
      [{ revoke_time: "<set>" }],
      { error: "NOT_FOUND" },
    ]);
  });
});

/** Ids, names, secrets and times differ per surface by design. */
function normalize(value: unknown): JsonValue {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== "object") return value as JsonValue;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (["id", "name", "prefix", "create_time", "revoke_time", "created_by"].includes(key)) {
        return [key, item ? "<set>" : null];
      }
      if (key === "secret")
        return [key, typeof item === "string" && item.startsWith("nsk_") ? "<secret>" : item];
      return [key, normalize(item)];
    }),
  );
}

describe("errors of the HTTP exchange itself, from the built service", () => {
  const post = (body: string, contentType = "application/json") =>
    fetch(`${service.httpUrl}/api/v1/notifications/templates`, {
      method: "POST",
      headers: { ...authHeaders(), "content-type": contentType },
      body,
    });

  it("400 MALFORMED_REQUEST_BODY for JSON that does not parse", async () => {
    const response = await post('{"name": "x",');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      errors: [{ code: "MALFORMED_REQUEST_BODY", title: "Тело запроса не разобрано" }],
    });
  });

  it("413 PAYLOAD_TOO_LARGE over REQUEST_MAX_BYTES, on REST and on Connect", async () => {
    const big = JSON.stringify({ name: "big", description: "x".repeat(5000) });
    const rest = await post(big);
    expect(rest.status).toBe(413);
    expect(await rest.json()).toMatchObject({
      errors: [{ code: "PAYLOAD_TOO_LARGE", title: "Слишком большой запрос" }],
    });
    const connect = await fetch(
      `${service.httpUrl}/platform.notification.v1.TemplateService/CreateTemplate`,
      {
        method: "POST",
        headers: { ...authHeaders(), "content-type": "application/json" },
        body: JSON.stringify({ template: { name: "big", description: "x".repeat(5000) } }),
      },
    );
    expect(((await connect.json()) as { code: string }).code).toBe("resource_exhausted");
  });

  it("415 UNSUPPORTED_MEDIA_TYPE for a body that is not JSON", async () => {
    const response = await post("name=x", "application/x-www-form-urlencoded");
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ errors: [{ code: "UNSUPPORTED_MEDIA_TYPE" }] });
  });
});

describe("interceptors run once per call on every surface", () => {
  it("logs one line and counts one call for a REST request", async () => {
    const procedure = "platform.notification.v1.TemplateService/ListTemplates";
    const before = service.logs.filter((line) => line.procedure === procedure).length;
    const response = await fetch(`${service.httpUrl}/api/v1/notifications/templates?page_size=1`, {
      headers: authHeaders("support-1", ["support"]),
    });
    expect(response.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const lines = service.logs.filter((line) => line.procedure === procedure).slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ surface: "rest", code: "ok" });
    const metrics = await (await fetch(`${service.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /notification_rpc_requests_total\{[^}]*procedure="platform.notification.v1.TemplateService\/ListTemplates"[^}]*surface="rest"[^}]*\} 1\n/,
    );
  });
});
