import { join } from "node:path";
import { create, type DescService, toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../../../gen/grpc/health/v1/health_pb.ts";
import { TranscodingTestService } from "../../../../gen/notification/testing/v1/transcoding_pb.ts";
import { ApiKeyService } from "../../../../gen/platform/notification/v1/api_key_service_pb.ts";
import { Channel } from "../../../../gen/platform/notification/v1/common_pb.ts";
import { DeviceService } from "../../../../gen/platform/notification/v1/device_service_pb.ts";
import { PreferenceService } from "../../../../gen/platform/notification/v1/preference_service_pb.ts";
import {
  TemplateSchema,
  TemplateService,
} from "../../../../gen/platform/notification/v1/template_service_pb.ts";
import { openApiDocument } from "../../../../server/openapi/openapi-document.ts";
import type { OpenApiDocument, Operation, Schema } from "../../../../server/openapi/openapi-types.ts";
import { openApiPath } from "../../../../server/openapi/operation.ts";
import { loadProtoComments } from "../../../../server/openapi/proto-comments.ts";
import { restBindingsOf } from "../../../../server/rest/http-rules.ts";
import { REPO_ROOT } from "../../../support/services.ts";

const BASE = "/api/v1/notifications";
const SERVICES: DescService[] = [
  Health,
  TemplateService,
  PreferenceService,
  DeviceService,
  ApiKeyService,
  TranscodingTestService,
];

let doc: OpenApiDocument;

beforeAll(() => {
  doc = openApiDocument(SERVICES, {
    title: "Notification Service REST API",
    version: "0.1.0",
    serverUrl: "http://127.0.0.1:8080",
    comments: loadProtoComments(join(REPO_ROOT, "server", "openapi", "descriptors.binpb")),
  });
});

function operation(method: string, path: string): Operation {
  const found = doc.paths[`${BASE}${path}`]?.[method];
  if (!found) throw new Error(`no ${method} ${path} in the document`);
  return found;
}

function component(name: string): Schema {
  const found = doc.components.schemas[name];
  if (!found) throw new Error(`no component ${name}`);
  return found;
}

function property(schemaName: string, name: string): Schema {
  return (component(schemaName).properties as Record<string, Schema>)[name] ?? {};
}

function parameter(op: Operation, name: string) {
  return op.parameters.find((candidate) => candidate.name === name);
}

function bodySchema(op: Operation): Schema | undefined {
  return op.requestBody?.content["application/json"].schema;
}

const V1 = "platform.notification.v1";
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

describe("the OpenAPI document of the REST surface", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(JSON.parse(JSON.stringify(doc)) as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: "http://127.0.0.1:8080" }]);
  });

  it("has one operation per google.api.http binding, additional bindings included", () => {
    const bindings = restBindingsOf(SERVICES);
    const operations = Object.values(doc.paths).flatMap((item) => Object.values(item));
    expect(operations).toHaveLength(bindings.length);
    for (const binding of bindings) {
      const op = doc.paths[openApiPath(binding)]?.[binding.httpMethod.toLowerCase()];
      expect(op?.["x-rpc"], `${binding.httpMethod} ${binding.template.source}`).toBe(
        `${binding.rpc.parent.typeName}/${binding.rpc.name}`,
      );
    }
    const ids = operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain("TemplateService_CreateTemplate");
    expect(ids).toEqual(
      expect.arrayContaining(["TranscodingTestService_Echo", "TranscodingTestService_Echo_6"]),
    );
    expect(doc.tags.map((tag) => tag.name)).toEqual(SERVICES.map((service) => service.name));
  });

  it("takes the list filters of GET /templates as typed query parameters", () => {
    const op = operation("get", "/templates");
    expect(op.requestBody).toBeUndefined();
    expect(op.parameters.map((p) => p.name)).toEqual([
      "channel_type",
      "name_prefix",
      "page_size",
      "page_token",
    ]);
    expect(parameter(op, "channel_type")).toMatchObject({
      in: "query",
      required: false,
      schema: ref(`${V1}.Channel`),
    });
    expect(component(`${V1}.Channel`)).toMatchObject({
      type: "string",
      enum: expect.arrayContaining(["CHANNEL_EMAIL"]),
    });
    expect(parameter(op, "page_size")?.schema).toEqual({
      type: "integer",
      format: "int32",
      minimum: 0,
      maximum: 200,
    });
    expect(parameter(op, "page_size")?.description).toBe(
      "At most this many templates (default 50, at most 200).",
    );
  });

  it("puts the template in the body of PUT /templates/{template_id}, the id in the path", () => {
    const op = operation("put", "/templates/{template_id}");
    expect(bodySchema(op)).toMatchObject(ref(`${V1}.Template`));
    expect(op.requestBody?.required).toBe(true);
    expect(parameter(op, "template_id")).toMatchObject({
      in: "path",
      required: true,
      schema: { type: "string", format: "uuid" },
    });
    expect(parameter(op, "expected_revision")).toMatchObject({
      in: "query",
      schema: { type: "string", format: "int64", minimum: 0, pattern: "^[0-9]+$", maxLength: 19 },
    });
    expect(parameter(op, "template")).toBeUndefined();
    expect(op.responses["200"]).toMatchObject({
      content: { "application/json": { schema: ref(`${V1}.Template`) } },
    });
  });

  it('keeps custom verbs in the path and leaves path fields out of a body: "*"', () => {
    const op = operation("post", "/templates/{template_id}/versions/{version}:activate");
    expect(op.parameters.map((p) => [p.name, p.in])).toEqual([
      ["template_id", "path"],
      ["version", "path"],
    ]);
    expect(parameter(op, "version")?.schema).toMatchObject({ type: "integer", minimum: 1 });
    expect(bodySchema(op)).toEqual({ type: "object", properties: {}, additionalProperties: false });
    const register = bodySchema(operation("post", "/devices/users/{user_id}"));
    expect(Object.keys(register?.properties as object)).toEqual(["platform", "token", "app_version"]);
    expect(register?.required).toEqual(["platform", "token"]);
  });

  it("answers errors with the shared ErrorBody, by what a route does", () => {
    expect(component("ErrorBody")).toMatchObject({ required: ["errors"], type: "object" });
    for (const [name, response] of Object.entries(doc.components.responses)) {
      expect(response.content?.["application/json"].schema, name).toEqual(ref("ErrorBody"));
    }
    const codes = (method: string, path: string) => Object.keys(operation(method, path).responses);
    // The gRPC health checking protocol answers NOT_FOUND for a service it does not know.
    expect(codes("get", "/health")).toEqual(["200", "400", "404", "429", "500", "503"]);
    expect(codes("get", "/health/all")).toEqual(["200", "400", "429", "500", "503"]);
    // A preview of a template without an active version answers 412 FAILED_PRECONDITION.
    expect(codes("post", "/templates/{template_id}:preview")).toContain("412");
    expect(codes("get", "/templates/{template_id}")).toEqual([
      "200",
      "400",
      "401",
      "403",
      "404",
      "429",
      "500",
      "503",
    ]);
    expect(codes("post", "/templates")).toEqual([
      ...["200", "400", "401", "403", "409", "412", "413", "415"],
      ...["429", "500", "503"],
    ]);
    expect(operation("get", "/templates").responses["400"]).toEqual({
      $ref: "#/components/responses/BadRequest",
    });
  });

  it("states who may call each route, from the access option", () => {
    expect(Object.keys(doc.components.securitySchemes)).toEqual(["bearerAuth", "apiKeyAuth"]);
    expect(doc.components.securitySchemes.apiKeyAuth).toMatchObject({ in: "header", name: "X-Api-Key" });
    const health = operation("get", "/health");
    expect(health.security).toEqual([]);
    expect(health["x-roles"]).toBeUndefined();
    const update = operation("put", "/templates/{template_id}");
    expect(update.security).toEqual([{ bearerAuth: [] }, { apiKeyAuth: [] }]);
    expect(update["x-roles"]).toEqual(["admin", "marketer"]);
    expect(update["x-owner-field"]).toBeUndefined();
    const devices = operation("get", "/devices/users/{user_id}");
    expect(devices["x-roles"]).toEqual(["admin", "support", "service", "user"]);
    expect(devices["x-owner-field"]).toBe("user_id");
  });

  it("maps protovalidate rules that JSON Schema can say", () => {
    expect(property(`${V1}.Template`, "name")).toMatchObject({
      type: "string",
      pattern: "^[a-z0-9][a-z0-9_.-]{0,127}$",
    });
    expect(property(`${V1}.Template`, "id")).toMatchObject({ format: "uuid" });
    expect(component(`${V1}.Template`).required).toEqual(["name", "channel_type", "default_language_code"]);
    expect(property(`${V1}.LocaleContent`, "body")).toMatchObject({ maxLength: 100000 });
    expect(property(`${V1}.CreateApiKeyRequest`, "roles")).toEqual({
      type: "array",
      items: {
        ...ref(`${V1}.Role`),
        enum: ["ROLE_ADMIN", "ROLE_MARKETER", "ROLE_SUPPORT", "ROLE_SERVICE", "ROLE_USER"],
      },
      minItems: 1,
      maxItems: 5,
      uniqueItems: true,
    });
    expect(property(`${V1}.UserPreferences`, "notification_types")).toMatchObject({
      type: "object",
      propertyNames: { pattern: "^[a-z0-9][a-z0-9_.-]{0,63}$" },
      additionalProperties: ref(`${V1}.TypePreference`),
      maxProperties: 200,
    });
    const token = bodySchema(operation("post", "/devices/users/{user_id}"))?.properties as Record<
      string,
      Schema
    >;
    expect(token.token).toMatchObject({ minLength: 8, maxLength: 4096, pattern: "^[A-Za-z0-9_:.\\-]+$" });
  });

  it("refuses fields a message does not have, as the transcoder does, but keeps Struct open", () => {
    const messages = Object.entries(doc.components.schemas).filter(
      ([name, schema]) => name !== "ErrorBody" && schema.type === "object",
    );
    expect(messages.length).toBeGreaterThan(10);
    for (const [name, schema] of messages) expect(schema.additionalProperties, name).toBe(false);
    const register = bodySchema(operation("post", "/devices/users/{user_id}"));
    expect(register?.additionalProperties).toBe(false);
    expect(property(`${V1}.Template`, "example_variables")).toEqual({
      type: "object",
      description: expect.any(String),
    });
  });

  it("says what required means for each kind of field: present and not its zero value", () => {
    expect(component(`${V1}.CreateApiKeyRequest`).required).toEqual(["name", "roles"]);
    expect(property(`${V1}.CreateApiKeyRequest`, "name")).toMatchObject({ minLength: 1, maxLength: 200 });
    expect(property(`${V1}.LocaleContent`, "body")).toMatchObject({ minLength: 1 });
    // A required enum refuses its zero value, *_UNSPECIFIED; defined_only alone does not.
    expect(property(`${V1}.Template`, "channel_type")).toMatchObject({
      ...ref(`${V1}.Channel`),
      enum: ["CHANNEL_EMAIL", "CHANNEL_SMS", "CHANNEL_PUSH_FCM", "CHANNEL_PUSH_APNS", "CHANNEL_IN_APP"],
    });
    expect(component(`${V1}.Channel`).enum).toContain("CHANNEL_UNSPECIFIED");
    const filter = parameter(operation("get", "/templates"), "channel_type");
    expect(filter?.schema).toEqual(ref(`${V1}.Channel`));
    const register = bodySchema(operation("post", "/devices/users/{user_id}"))?.properties ?? {};
    const platform = (register as Record<string, Schema>).platform;
    expect(platform?.enum).not.toContain("DEVICE_PLATFORM_UNSPECIFIED");
    expect(platform?.enum).toHaveLength(2);
    // A required message field is in the body's required list; a required body is required.
    expect(operation("put", "/preferences/users/{user_id}").requestBody?.required).toBe(true);
    expect(operation("post", "/templates").requestBody?.required).toBe(true);
    // No body is {}: refused when the body has a field that must be sent.
    expect(operation("post", "/devices/users/{user_id}").requestBody?.required).toBe(true);
    expect(
      operation("post", "/templates/{template_id}/versions/{version}:activate").requestBody?.required,
    ).toBe(false);
    // A rule JSON Schema cannot say is said in words.
    expect(property(`${V1}.CreateApiKeyRequest`, "expire_time").description).toContain(
      "Must be later than the time the request arrives.",
    );
    // min_items, min_pairs and min_len refuse an absent field as much as required does.
    expect(bodySchema(operation("post", "/templates/{template_id}/versions"))?.required).toEqual(["locales"]);
    // Numbers out of the range of their proto type are refused by the JSON mapping.
    expect(property(`${V1}.Template`, "active_version")).toEqual({
      type: "integer",
      format: "int32",
      minimum: -2147483648,
      maximum: 2147483647,
      description: expect.any(String),
    });
  });

  it("gives If-Match and ETag the format the transcoder reads and writes", () => {
    const header = parameter(operation("put", "/templates/{template_id}"), "If-Match");
    const pattern = new RegExp(String(header?.schema.pattern), "u");
    for (const good of ['"3"', 'W/"3"', "3", "0"]) expect(pattern.test(good), good).toBe(true);
    for (const bad of ["", "*", '"abc"', "-1", '"3", "4"', `"${"9".repeat(20)}"`]) {
      expect(pattern.test(bad), bad).toBe(false);
    }
    const etag = (operation("get", "/templates/{template_id}").responses["200"] as { headers?: object })
      .headers as Record<string, { schema: Schema }>;
    expect(new RegExp(String(etag.ETag?.schema.pattern), "u").test('"12"')).toBe(true);
  });

  it("links an answer to the routes that take the resource it names", () => {
    const links = (method: string, path: string) =>
      (operation(method, path).responses["200"] as { links?: Record<string, unknown> }).links ?? {};
    expect(links("post", "/templates").TemplateService_CreateTemplateVersion).toEqual({
      operationId: "TemplateService_CreateTemplateVersion",
      parameters: { template_id: "$response.body#/id" },
    });
    expect(links("post", "/templates")).not.toHaveProperty("TemplateService_ActivateTemplateVersion");
    expect(
      links("post", "/templates/{template_id}/versions").TemplateService_ActivateTemplateVersion,
    ).toEqual({
      operationId: "TemplateService_ActivateTemplateVersion",
      parameters: { template_id: "$response.body#/template_id", version: "$response.body#/version" },
    });
    expect(links("post", "/devices/users/{user_id}").DeviceService_DeleteDevice).toEqual({
      operationId: "DeviceService_DeleteDevice",
      parameters: { user_id: "$response.body#/user_id", device_id: "$response.body#/id" },
    });
    expect(links("get", "/templates")).toEqual({});
    const ids = new Set(
      Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId)),
    );
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item)) {
        const each = (op.responses["200"] as { links?: Record<string, { operationId: string }> }).links ?? {};
        for (const link of Object.values(each))
          expect(ids.has(link.operationId), link.operationId).toBe(true);
      }
    }
  });

  it("follows the proto3 JSON mapping for well-known and 64-bit types", () => {
    expect(property(`${V1}.Template`, "revision")).toMatchObject({
      type: "string",
      format: "int64",
      pattern: "^-?[0-9]+$",
      maxLength: 20,
    });
    expect(property(`${V1}.Template`, "create_time")).toEqual({ type: "string", format: "date-time" });
    expect(property(`${V1}.Template`, "example_variables")).toMatchObject({ type: "object" });
    expect(property("grpc.health.v1.HealthListResponse", "statuses")).toMatchObject({
      type: "object",
      additionalProperties: ref("grpc.health.v1.HealthCheckResponse"),
    });
    expect(component("grpc.health.v1.HealthCheckResponse.ServingStatus").enum).toEqual([
      "UNKNOWN",
      "SERVING",
      "NOT_SERVING",
      "SERVICE_UNKNOWN",
    ]);
  });

  it("carries the comments of the protos", () => {
    expect(component(`${V1}.Template`).description).toMatch(/^A notification template/);
    expect(property(`${V1}.Template`, "name").description).toBe(
      "Unique name other services use in send requests, e.g. order_confirmation.",
    );
    expect(component(`${V1}.Channel`).description).toContain(
      "- `CHANNEL_PUSH_FCM`: Push to Android through Firebase Cloud Messaging.",
    );
    expect(operation("post", "/templates/{template_id}/versions/{version}:activate").description).toBe(
      "Makes a version the one sends use; it is immutable from then on.",
    );
    expect(doc.tags.find((tag) => tag.name === "DeviceService")?.description).toBe("Users' push tokens.");
    expect(property("ErrorBody", "errors")).toMatchObject({
      items: {
        properties: {
          source: {
            properties: {
              parameter: { description: "The offending query or path parameter, e.g. page_size." },
            },
          },
        },
      },
    });
  });

  it("documents optimistic concurrency and the lenient enum query values", () => {
    const update = operation("put", "/templates/{template_id}");
    expect(update.parameters.find((each) => each.name === "If-Match")).toMatchObject({
      in: "header",
      required: false,
    });
    const get = operation("get", "/templates/{template_id}");
    expect(get.responses["200"]).toMatchObject({ headers: { ETag: { schema: { type: "string" } } } });
    const list = operation("get", "/templates");
    expect(list.parameters.find((each) => each.name === "channel_type")?.description).toContain(
      "without the `CHANNEL_` prefix",
    );
    expect(list.parameters.some((each) => each.name === "If-Match")).toBe(false);
  });

  it("describes every form of binding the transcoder serves", () => {
    const get = operation("get", "/test/shelves/{shelf.id}/books/{book_id}");
    const names = get.parameters.map((p) => `${p.in}:${p.name}`);
    expect(names.slice(0, 2)).toEqual(["path:shelf.id", "path:book_id"]);
    expect(names).toEqual(
      expect.arrayContaining(["query:shelf.theme", "query:nested.label", "query:book.pages"]),
    );
    expect(parameter(get, "colors")).toMatchObject({
      style: "form",
      explode: true,
      schema: { type: "array", items: ref("notification.testing.v1.Color") },
    });
    expect(parameter(get, "at")?.schema).toEqual({ type: "string", format: "date-time" });
    expect(parameter(get, "big")?.schema).toMatchObject({ type: "string", format: "int64" });

    const post = operation("post", "/test/shelves/{shelf.id}/books");
    expect(bodySchema(post)).toEqual(ref("notification.testing.v1.Book"));
    expect(post.parameters.some((p) => p.name.startsWith("book."))).toBe(false);

    const named = operation("put", "/test/echo/{name}");
    expect(named.parameters.map((each) => [each.name, each.in])).toEqual([
      ["name", "path"],
      ["If-Match", "header"],
    ]);
    expect(parameter(named, "name")?.description).toContain("`items/*`");
    expect(operation("get", "/test/files/{path}").parameters[0]?.description).toContain("`**`");
    expect(operation("post", "/test/shelves/{shelf.id}:archive").operationId).toBe(
      "TranscodingTestService_Echo_5",
    );
    expect(operation("get", "/test/received/{name}").responses["200"]).toMatchObject({
      content: { "application/json": { schema: ref("notification.testing.v1.EchoRequest") } },
    });
  });
});

describe("the schemas against real proto JSON", () => {
  function validatorFor(name: string) {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    for (const format of ["int32", "int64", "uint64", "float", "double"]) ajv.addFormat(format, true);
    ajv.addSchema({ $id: "urn:notification:openapi", components: doc.components });
    const validate = ajv.getSchema(`urn:notification:openapi#/components/schemas/${name}`);
    if (!validate) throw new Error(`no schema ${name}`);
    return validate;
  }

  const template = () =>
    create(TemplateSchema, {
      id: "0b5a3c1e-8f0e-4c4e-9a57-3f1d2b6c7a10",
      name: "order_confirmation",
      channelType: Channel.EMAIL,
      defaultLanguageCode: "ru",
      revision: 3n,
      createTime: timestampFromDate(new Date("2026-01-02T03:04:05Z")),
    });
  const asRest = (message: ReturnType<typeof template>) =>
    toJson(TemplateSchema, message, { useProtoFieldName: true, alwaysEmitImplicit: true });

  it("accepts a template as the REST surface writes it", () => {
    const validate = validatorFor(`${V1}.Template`);
    expect(validate(asRest(template())), JSON.stringify(validate.errors)).toBe(true);
  });

  it("rejects unknown fields, missing required ones and *_UNSPECIFIED where the server does", () => {
    const validate = validatorFor(`${V1}.Template`);
    const json = asRest(template()) as Record<string, unknown>;
    expect(validate({ ...json, colour: "red" })).toBe(false);
    expect(validate({ ...json, channel_type: "CHANNEL_UNSPECIFIED" })).toBe(false);
    expect(validate({ ...json, name: undefined })).toBe(false);
    expect(validate({ ...json, active_version: 2 ** 31 })).toBe(false);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
  });

  it("rejects what the validation rules reject", () => {
    const validate = validatorFor(`${V1}.Template`);
    const bad = template();
    bad.name = "Not A Name";
    bad.id = "not-a-uuid";
    expect(validate(asRest(bad))).toBe(false);
    expect(validate.errors?.map((error) => error.instancePath).sort()).toEqual(["/id", "/name"]);
  });
});
