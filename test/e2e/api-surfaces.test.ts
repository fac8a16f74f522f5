import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/platform/notification/v1/api_key_service_pb.ts";
import { AUTH_ENV, authHeaders, authInterceptor, bearerToken } from "../support/credentials.ts";
import { metricSample, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { type Outcome, restCaller, rpcCaller, transportsOf } from "../support/surfaces.ts";

// What holds for the API as a whole, whatever the service: API keys behave the same on
// every surface, the HTTP exchange's own errors have the platform's body and are logged and
// counted like RPC errors, credentials are checked before a body is read, and one call runs
// the interceptors once. `service` runs with the default LOG_CALLS (failed calls only),
// `verbose` with LOG_CALLS=all.
const BOOTSTRAP_KEY = `nsk_${"b".repeat(40)}`;
let service: ServiceProcess;
let verbose: ServiceProcess;

beforeAll(async () => {
  const env = { ...AUTH_ENV, REQUEST_MAX_BYTES: "4096", AUTH_BOOTSTRAP_ADMIN_KEY: BOOTSTRAP_KEY };
  [service, verbose] = await Promise.all([
    startServiceProcess({ env }),
    startServiceProcess({ env: { ...env, LOG_CALLS: "all" } }),
  ]);
});

afterAll(async () => {
  await Promise.all([service?.stop(), verbose?.stop()]);
});

/** The log lines `of` writes while `action` runs (and shortly after, as stdout is a pipe). */
async function linesDuring(
  of: ServiceProcess,
  action: () => Promise<void>,
): Promise<Record<string, unknown>[]> {
  const before = of.logs.length;
  await action();
  await new Promise((resolve) => setTimeout(resolve, 150));
  return of.logs.slice(before);
}

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

describe("Connect unary requests over HTTP/1.1, whatever their framing", () => {
  const listApiKeys = `/platform.notification.v1.ApiKeyService/ListApiKeys`;
  const post = (body: Uint8Array | string, headers: Record<string, string>) =>
    fetch(`${service.httpUrl}${listApiKeys}`, {
      method: "POST",
      headers: { ...authHeaders(), "content-type": "application/json", ...headers },
      body,
    });

  it("decompresses a gzip body, and reads one sent in chunks without a declared length", async () => {
    const gzipped = await post(gzipSync(JSON.stringify({ includeInactive: true })), {
      "content-encoding": "gzip",
    });
    expect(gzipped.status).toBe(200);
    expect(await gzipped.json()).not.toHaveProperty("code");
    const chunked = await fetch(`${service.httpUrl}${listApiKeys}`, {
      method: "POST",
      headers: { ...authHeaders(), "content-type": "application/json" },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"includeInactive":'));
          controller.enqueue(new TextEncoder().encode("true}"));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(200);
    expect(await chunked.json()).not.toHaveProperty("code");
  });

  it("answers a body that does not parse in the Connect protocol, with its length", async () => {
    const response = await post("{not json", {});
    expect(response.status).toBe(400);
    expect(response.headers.get("content-length")).toBe(
      String((await response.clone().arrayBuffer()).byteLength),
    );
    expect(((await response.json()) as { code: string }).code).toBe("invalid_argument");
  });
});

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
    const before = verbose.logs.filter((line) => line.procedure === procedure).length;
    const response = await fetch(`${verbose.httpUrl}/api/v1/notifications/templates?page_size=1`, {
      headers: authHeaders("support-1", ["support"]),
    });
    expect(response.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const lines = verbose.logs.filter((line) => line.procedure === procedure).slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ surface: "rest", stage: "rpc", code: "ok" });
    const metrics = await (await fetch(`${verbose.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /notification_rpc_requests_total\{[^}]*procedure="platform.notification.v1.TemplateService\/ListTemplates"[^}]*surface="rest"[^}]*\} 1\n/,
    );
  });
});

describe("REST checks credentials before it reads the body", () => {
  const create = (headers: Record<string, string>, body = '{"name": "x",') =>
    fetch(`${service.httpUrl}/api/v1/notifications/templates`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body,
    });

  it("answers 401 to an anonymous caller or a bad credential, whatever the body", async () => {
    const credentials: Record<string, string>[] = [
      {},
      { authorization: "Bearer not-a-jwt" },
      { authorization: `Bearer ${bearerToken("x", ["admin"]).slice(0, -4)}AAAA` },
      { "x-api-key": `nsk_${"0".repeat(40)}` },
    ];
    for (const headers of credentials) {
      const response = await create(headers);
      expect(response.status, JSON.stringify(headers)).toBe(401);
      expect(await response.json()).toMatchObject({ errors: [{ code: "UNAUTHENTICATED" }] });
    }
    // Over the size limit and of the wrong type, too: nothing of the body is looked at.
    expect((await create({}, JSON.stringify({ name: "x".repeat(5000) }))).status).toBe(401);
  });

  it("answers 400 to a caller with a valid JWT or API key", async () => {
    for (const headers of [authHeaders(), { "x-api-key": BOOTSTRAP_KEY }]) {
      const response = await create(headers);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ errors: [{ code: "MALFORMED_REQUEST_BODY" }] });
    }
  });

  it("still reads the request of a public method for an anonymous caller", async () => {
    const health = `${service.httpUrl}/api/v1/notifications/health`;
    expect((await fetch(health)).status).toBe(200);
    const unknown = await fetch(`${health}?nope=1`);
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ errors: [{ source: { parameter: "nope" } }] });
  });

  it("logs and counts the 401 once, as an RPC error", async () => {
    const labels = {
      procedure: "platform.notification.v1.TemplateService/CreateTemplate",
      surface: "rest",
      stage: "rpc",
      code: "Unauthenticated",
    };
    const before = await metricSample(service, "notification_rpc_requests_total", labels);
    const lines = await linesDuring(service, async () => {
      expect((await create({})).status).toBe(401);
    });
    expect(lines.filter((line) => line.message === "rpc")).toEqual([
      expect.objectContaining({ ...labels, reason: "the method needs credentials" }),
    ]);
    expect(await metricSample(service, "notification_rpc_requests_total", labels)).toBe(before + 1);
  });
});

describe("REST errors raised before the RPC are logged and counted like RPC errors", () => {
  const base = () => `${service.httpUrl}/api/v1/notifications`;
  const createTemplate = "platform.notification.v1.TemplateService/CreateTemplate";
  const json = { ...authHeaders(), "content-type": "application/json" };
  const cases: {
    name: string;
    request: () => Promise<Response>;
    status: number;
    procedure: string;
    code: string;
  }[] = [
    {
      name: "400 malformed JSON",
      request: () => fetch(`${base()}/templates`, { method: "POST", headers: json, body: '{"name":' }),
      status: 400,
      procedure: createTemplate,
      code: "InvalidArgument",
    },
    {
      name: "404 no route",
      request: () => fetch(`${base()}/nowhere/at/all`, { headers: authHeaders() }),
      status: 404,
      procedure: "unrouted",
      code: "NotFound",
    },
    {
      name: "405 wrong method",
      request: () => fetch(`${base()}/templates`, { method: "PATCH", headers: json, body: "{}" }),
      status: 405,
      procedure: "unrouted",
      code: "Unimplemented",
    },
    {
      name: "413 body too large",
      request: () =>
        fetch(`${base()}/templates`, {
          method: "POST",
          headers: json,
          body: JSON.stringify({ name: "big", description: "x".repeat(5000) }),
        }),
      status: 413,
      procedure: createTemplate,
      code: "ResourceExhausted",
    },
    {
      name: "415 not JSON",
      request: () =>
        fetch(`${base()}/templates`, {
          method: "POST",
          headers: { ...authHeaders(), "content-type": "text/plain" },
          body: "name=x",
        }),
      status: 415,
      procedure: createTemplate,
      code: "InvalidArgument",
    },
  ];

  for (const each of cases) {
    it(`${each.name}: one log line and one count, with stage="transcoding"`, async () => {
      const labels = { procedure: each.procedure, surface: "rest", stage: "transcoding", code: each.code };
      const before = await metricSample(service, "notification_rpc_requests_total", labels);
      const lines = await linesDuring(service, async () => {
        const response = await each.request();
        expect(response.status).toBe(each.status);
        await response.arrayBuffer();
      });
      const logged = lines.filter((line) => line.message === "rpc");
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: "info", ...labels, reason: expect.any(String) });
      expect(logged[0]?.durationMs).toEqual(expect.any(Number));
      expect(await metricSample(service, "notification_rpc_requests_total", labels)).toBe(before + 1);
    });
  }
});

describe("per-call log lines follow LOG_CALLS", () => {
  const get = (of: ServiceProcess, id: string) =>
    fetch(`${of.httpUrl}/api/v1/notifications/templates/${id}`, { headers: authHeaders() });

  it("by default logs failed calls only, on every surface, and still counts every call", async () => {
    const procedure = "platform.notification.v1.ApiKeyService/ListApiKeys";
    const ok = { procedure, surface: "connect", stage: "rpc", code: "ok" };
    const before = await metricSample(service, "notification_rpc_requests_total", ok);
    const call = rpcCaller(ApiKeyService, transportsOf(service, [authInterceptor()]).connect);
    const lines = await linesDuring(service, async () => {
      expect(await call("listApiKeys", {})).toHaveProperty("api_keys");
      expect((await get(service, randomUUID())).status).toBe(404);
      expect(await call("revokeApiKey", { api_key_id: "not-a-uuid" })).toEqual({ error: "VALIDATION_ERROR" });
    });
    expect(lines.filter((line) => line.message === "rpc")).toEqual([
      expect.objectContaining({ surface: "rest", stage: "rpc", code: "NotFound" }),
      expect.objectContaining({ surface: "connect", stage: "rpc", code: "InvalidArgument" }),
    ]);
    expect(await metricSample(service, "notification_rpc_requests_total", ok)).toBe(before + 1);
  });

  it("with LOG_CALLS=all logs successful calls too", async () => {
    const lines = await linesDuring(verbose, async () => {
      expect((await get(verbose, randomUUID())).status).toBe(404);
      const listed = await fetch(`${verbose.httpUrl}/api/v1/notifications/templates?page_size=1`, {
        headers: authHeaders(),
      });
      expect(listed.status).toBe(200);
    });
    expect(lines.filter((line) => line.message === "rpc").map((line) => line.code)).toEqual([
      "NotFound",
      "ok",
    ]);
  });
});
