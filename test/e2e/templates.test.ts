import { randomUUID } from "node:crypto";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TemplateService } from "../../gen/platform/notification/v1/template_service_pb.ts";
import { AUTH_ENV, authHeaders, authInterceptor } from "../support/credentials.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { type Outcome, restCaller, rpcCaller, transportsOf } from "../support/surfaces.ts";

/** Every TemplateService method, one way of calling it per surface. */
interface TemplateApi {
  create(template: JsonObject): Promise<Outcome>;
  get(id: string): Promise<Outcome>;
  list(query: { channel?: string; prefix: string; pageSize: number; pageToken?: string }): Promise<Outcome>;
  update(id: string, template: JsonObject, expectedRevision: string): Promise<Outcome>;
  remove(id: string, expectedRevision: string): Promise<Outcome>;
  createVersion(id: string, locales: JsonObject[]): Promise<Outcome>;
  listVersions(id: string): Promise<Outcome>;
  getVersion(id: string, version: number): Promise<Outcome>;
  updateVersion(id: string, version: number, locales: JsonObject[]): Promise<Outcome>;
  activate(id: string, version: number): Promise<Outcome>;
  preview(id: string, request: JsonObject): Promise<Outcome>;
}

function rpcTemplateApi(call: ReturnType<typeof rpcCaller>): TemplateApi {
  return {
    create: (template) => call("createTemplate", { template }),
    get: (id) => call("getTemplate", { template_id: id }),
    list: ({ channel, prefix, pageSize, pageToken }) =>
      call("listTemplates", {
        ...(channel ? { channel_type: `CHANNEL_${channel.toUpperCase()}` } : {}),
        name_prefix: prefix,
        page_size: pageSize,
        ...(pageToken ? { page_token: pageToken } : {}),
      }),
    update: (id, template, expectedRevision) =>
      call("updateTemplate", { template_id: id, template, expected_revision: expectedRevision }),
    remove: (id, expectedRevision) =>
      call("deleteTemplate", { template_id: id, expected_revision: expectedRevision }),
    createVersion: (id, locales) => call("createTemplateVersion", { template_id: id, locales }),
    listVersions: (id) => call("listTemplateVersions", { template_id: id }),
    getVersion: (id, version) => call("getTemplateVersion", { template_id: id, version }),
    updateVersion: (id, version, locales) =>
      call("updateTemplateVersion", { template_id: id, version, locales }),
    activate: (id, version) => call("activateTemplateVersion", { template_id: id, version }),
    preview: (id, request) => call("renderTemplatePreview", { template_id: id, ...request }),
  };
}

function restTemplateApi(call: ReturnType<typeof restCaller>): TemplateApi {
  return {
    create: (template) => call("POST", "/templates", template),
    get: (id) => call("GET", `/templates/${id}`),
    list: ({ channel, prefix, pageSize, pageToken }) => {
      const query = new URLSearchParams({ name_prefix: prefix, page_size: String(pageSize) });
      if (channel) query.set("channel_type", channel);
      if (pageToken) query.set("page_token", pageToken);
      return call("GET", `/templates?${query}`);
    },
    update: (id, template, expectedRevision) =>
      call("PUT", `/templates/${id}`, template, { "if-match": `"${expectedRevision}"` }),
    remove: (id, expectedRevision) =>
      call("DELETE", `/templates/${id}`, undefined, { "if-match": `"${expectedRevision}"` }),
    createVersion: (id, locales) => call("POST", `/templates/${id}/versions`, { locales }),
    listVersions: (id) => call("GET", `/templates/${id}/versions`),
    getVersion: (id, version) => call("GET", `/templates/${id}/versions/${version}`),
    updateVersion: (id, version, locales) => call("PUT", `/templates/${id}/versions/${version}`, { locales }),
    activate: (id, version) => call("POST", `/templates/${id}/versions/${version}:activate`, {}),
    preview: (id, request) => call("POST", `/templates/${id}:preview`, request),
  };
}

const RU = {
  language_code: "ru",
  subject: "Заказ {{orderId}}",
  body: "Здравствуйте, {{userName}}!",
  body_html: "<p>{{userName}}</p>",
};
const EN = { language_code: "en", subject: "Order {{orderId}}", body: "Hello, {{userName}}!", body_html: "" };

const field = (outcome: Outcome, name: string): JsonValue => (outcome as JsonObject | null)?.[name] ?? null;

/** One walk through every method; the transcript must be the same on every surface. */
async function scenario(api: TemplateApi, prefix: string): Promise<JsonValue[]> {
  const transcript: Outcome[] = [];
  const step = async (outcome: Promise<Outcome>) => {
    const value = await outcome;
    transcript.push(value);
    return value;
  };
  const created = await step(
    api.create({
      name: `${prefix}order_confirmation`,
      channel_type: "CHANNEL_EMAIL",
      default_language_code: "ru",
      description: "Подтверждение заказа",
      example_variables: { userName: "Иван", orderId: "A-1" },
    }),
  );
  const id = String(field(created, "id"));
  await step(
    api.create({ name: `${prefix}code_sms`, channel_type: "CHANNEL_SMS", default_language_code: "ru" }),
  );
  await step(
    api.create({
      name: `${prefix}order_confirmation`,
      channel_type: "CHANNEL_EMAIL",
      default_language_code: "ru",
    }),
  );
  await step(api.create({ name: "Bad Name", channel_type: "CHANNEL_EMAIL", default_language_code: "ru" }));
  await step(api.get(id));
  await step(api.createVersion(id, [RU, EN]));
  await step(api.createVersion(id, [{ ...RU, body: "Добрый день, {{userName}}" }, EN]));
  await step(api.createVersion(id, [EN]));
  await step(api.createVersion(id, [{ ...RU, body: "{{#unclosed}}" }]));
  await step(api.listVersions(id));
  await step(api.getVersion(id, 2));
  await step(api.updateVersion(id, 2, [{ ...RU, body: "Доброе утро, {{userName}}" }, EN]));
  await step(api.preview(id, { language_code: "ru-RU" }));
  await step(api.activate(id, 1));
  await step(api.updateVersion(id, 1, [RU]));
  await step(api.preview(id, { language_code: "ru-RU", variables: { userName: "<Пётр>", orderId: "B-2" } }));
  await step(api.preview(id, { version: 2, language_code: "en-GB" }));
  const current = await step(api.get(id));
  await step(
    api.update(
      id,
      { name: `${prefix}order_confirmation`, channel_type: "CHANNEL_EMAIL", default_language_code: "en" },
      "1",
    ),
  );
  await step(
    api.update(
      id,
      { name: `${prefix}order_confirmation_v2`, channel_type: "CHANNEL_EMAIL", default_language_code: "en" },
      String(field(current, "revision")),
    ),
  );
  await step(api.list({ prefix, pageSize: 1 }));
  await step(api.list({ prefix, pageSize: 5, channel: "sms" }));
  await step(api.get(randomUUID()));
  await step(api.remove(id, "1"));
  const latest = await step(api.get(id));
  await step(api.remove(id, String(field(latest, "revision"))));
  await step(api.get(id));
  return normalize(transcript, prefix) as JsonValue[];
}

/** Ids, times, names and page tokens differ per surface by design; everything else must not. */
function normalize(value: unknown, prefix: string): unknown {
  if (Array.isArray(value)) return value.map((item) => normalize(item, prefix));
  if (value === null || typeof value !== "object") {
    return typeof value === "string" ? value.replaceAll(prefix, "<prefix>") : value;
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (["id", "template_id", "create_time", "update_time", "activate_time"].includes(key))
        return [key, item ? "<set>" : item];
      if (key === "next_page_token") return [key, item ? "<token>" : item];
      return [key, normalize(item, prefix)];
    }),
  );
}

describe("TemplateService end to end, on every surface", () => {
  let service: ServiceProcess;
  let apis: Record<string, TemplateApi>;

  beforeAll(async () => {
    service = await startServiceProcess({ env: AUTH_ENV });
    const transports = transportsOf(service, [authInterceptor("marketer-1", ["admin"])]);
    apis = {
      connect: rpcTemplateApi(rpcCaller(TemplateService, transports.connect)),
      grpc: rpcTemplateApi(rpcCaller(TemplateService, transports.grpc)),
      "grpc-web": rpcTemplateApi(rpcCaller(TemplateService, transports["grpc-web"])),
      rest: restTemplateApi(restCaller(service.httpUrl, authHeaders("marketer-1", ["admin"]))),
    };
  });

  afterAll(async () => {
    await service?.stop();
  });

  it("gives the same answers over Connect, gRPC, gRPC-Web and REST for every method", async () => {
    const transcripts: Record<string, JsonValue[]> = {};
    for (const [surface, api] of Object.entries(apis)) {
      transcripts[surface] = await scenario(api, `e2e_${randomUUID().slice(0, 8)}_`);
    }
    const connect = transcripts.connect ?? [];
    for (const surface of ["grpc", "grpc-web", "rest"])
      expect(transcripts[surface], surface).toEqual(connect);

    const codes = connect.map((outcome) => (outcome as { error?: string }).error ?? "ok");
    expect(codes).toEqual([
      "ok",
      "ok",
      "ALREADY_EXISTS",
      "VALIDATION_ERROR",
      "ok",
      "ok",
      "ok",
      "VALIDATION_ERROR",
      "VALIDATION_ERROR",
      "ok",
      "ok",
      "ok",
      "FAILED_PRECONDITION",
      "ok",
      "FAILED_PRECONDITION",
      "ok",
      "ok",
      "ok",
      "STALE_REVISION",
      "ok",
      "ok",
      "ok",
      "NOT_FOUND",
      "STALE_REVISION",
      "ok",
      "ok",
      "NOT_FOUND",
    ]);
    expect(connect[15]).toMatchObject({
      subject: "Заказ B-2",
      body: "Здравствуйте, <Пётр>!",
      body_html: "<p>&lt;Пётр&gt;</p>",
      language_code: "ru",
      version: 1,
    });
    expect(connect[16]).toMatchObject({ body: "Hello, Иван!", language_code: "en", version: 2 });
    expect(connect[9]).toMatchObject({
      versions: [
        { version: 2, active: false },
        { version: 1, active: false },
      ],
    });
    expect(connect[20]).toMatchObject({
      templates: [{ name: "<prefix>code_sms" }],
      next_page_token: "<token>",
    });
    expect(connect[21]).toMatchObject({
      templates: [{ name: "<prefix>code_sms", channel_type: "CHANNEL_SMS" }],
      next_page_token: "",
    });
  });

  it("answers REST with the ETag of the revision, and 412 for a stale If-Match", async () => {
    const rest = restCaller(service.httpUrl, authHeaders());
    const created = (await rest("POST", "/templates", {
      name: `etag_${randomUUID().slice(0, 8)}`,
      channel_type: "CHANNEL_IN_APP",
      default_language_code: "en",
    })) as JsonObject;
    const response = await fetch(`${service.httpUrl}/api/v1/notifications/templates/${created.id}`, {
      headers: authHeaders(),
    });
    expect(response.headers.get("etag")).toBe(`"${created.revision}"`);
    const stale = await fetch(`${service.httpUrl}/api/v1/notifications/templates/${created.id}`, {
      method: "DELETE",
      headers: { ...authHeaders(), "if-match": '"999"' },
    });
    expect(stale.status).toBe(412);
    expect(await stale.json()).toMatchObject({
      errors: [{ code: "STALE_REVISION", source: { parameter: "If-Match" } }],
    });
  });

  it("reports every invalid field of a REST body at once, with pointers into the body", async () => {
    const response = await fetch(`${service.httpUrl}/api/v1/notifications/templates`, {
      method: "POST",
      headers: { ...authHeaders(), "content-type": "application/json" },
      body: JSON.stringify({
        name: "Has Spaces",
        channel_type: "CHANNEL_EMAIL",
        default_language_code: "Russian",
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      errors: { code: string; title: string; source: { pointer: string } }[];
    };
    expect(body.errors.map((error) => [error.code, error.title, error.source.pointer])).toEqual([
      ["VALIDATION_ERROR", "Ошибка валидации запроса", "/name"],
      ["VALIDATION_ERROR", "Ошибка валидации запроса", "/default_language_code"],
    ]);
  });
});

describe("template cache across two service processes", () => {
  it("serves a template changed through one process fresh from the other at once", async () => {
    const [a, b] = await Promise.all([
      startServiceProcess({ env: AUTH_ENV }),
      startServiceProcess({ env: AUTH_ENV }),
    ]);
    try {
      const onA = restCaller(a.httpUrl, authHeaders());
      const onB = restCaller(b.httpUrl, authHeaders());
      const name = `cache_${randomUUID().slice(0, 8)}`;
      const created = (await onA("POST", "/templates", {
        name,
        channel_type: "CHANNEL_EMAIL",
        default_language_code: "ru",
      })) as JsonObject;
      const path = `/templates/${created.id}`;
      for (let round = 1; round <= 5; round++) {
        expect(field(await onA("GET", path), "description")).toBe(round === 1 ? "" : `round ${round - 1}`);
        expect(field(await onA("GET", path), "description")).toBe(round === 1 ? "" : `round ${round - 1}`);
        const current = (await onB("GET", path)) as JsonObject;
        await onB(
          "PUT",
          path,
          { name, channel_type: "CHANNEL_EMAIL", default_language_code: "ru", description: `round ${round}` },
          {
            "if-match": `"${current.revision}"`,
          },
        );
        // B's invalidation reaches A by Redis pub/sub once the write committed: a moment later
        // on a loaded machine, never a local TTL (30 s) later.
        const fresh = async () => field(await onA("GET", path), "description") === `round ${round}`;
        expect(await eventually(fresh, 1_000)).toBe(true);
      }
      const metrics = await (await fetch(`${a.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(
        /notification_cache_lookups_total\{[^}]*cache="templates"[^}]*outcome="local_hit"[^}]*\} [1-9]/,
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
