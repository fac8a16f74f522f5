import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { clone, type DescFile, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { COMPATIBILITY, SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { afterAll, describe, expect, it } from "vitest";
import { file_grpc_health_v1_health } from "../../gen/grpc/health/v1/health_pb.ts";
import { registryCall, registryUrl, subjectPath } from "../support/schema-registry.ts";

// Against the real local schema registry (scripts/services up schema-registry: Apicurio
// Registry 3), through its Confluent REST API: our own grpc.health.v1 contract, with the
// protos it imports (google.api, our access option) registered as references, keeps its id and text,
// and BACKWARD compatibility stops a breaking change while letting a new field in. The same
// contract registered the way Confluent's Python and Go serializers do it, as a base64
// FileDescriptorProto, is accepted, understood and given back.

interface Reference {
  name: string;
  subject: string;
  version: number;
}

interface SchemaById {
  schema: string;
  schemaType?: string;
  references?: Reference[];
}

interface SubjectVersion extends SchemaById {
  subject: string;
  id: number;
  version: number;
}

interface CompatibilityResult {
  is_compatible: boolean;
  messages?: string[];
}

const baseUrl = registryUrl;
const root = new URL("../../", import.meta.url);
const proto = (path: string): string => readFileSync(new URL(path, root), "utf8");

const runId = randomUUID();
const httpSubject = `test-${runId}-google-api-http`;
const annotationsSubject = `test-${runId}-google-api-annotations`;
const accessSubject = `test-${runId}-platform-notification-v1-access`;
const healthSubject = `test-${runId}-grpc-health-v1`;

const healthProto = proto("proto/grpc/health/v1/health.proto");
const healthReferences: Reference[] = [
  { name: "google/api/annotations.proto", subject: annotationsSubject, version: 1 },
  { name: "platform/notification/v1/access.proto", subject: accessSubject, version: 1 },
];

// Replaces FROM with TO in health.proto, failing loudly if the proto no longer has FROM
// (the variant would otherwise be the original and prove nothing).
function healthVariant(from: string, to: string): string {
  expect(healthProto).toContain(from);
  return healthProto.replace(from, to);
}
// access.proto imports nothing but a well-known type, which the registry knows itself.
const accessProto = proto("proto/platform/notification/v1/access.proto");
const ownerField = "string owner_field = 2;";
expect(accessProto).toContain(ownerField);
const breakingAccess = accessProto.replace(ownerField, "int64 owner_field = 2;");
const compatibleAccess = accessProto.replace(ownerField, `${ownerField}\n  string note = 4;`);

const statusField = "ServingStatus status = 1;";
// On the wire an enum is a varint and a string is length-delimited: old data cannot be read.
const breakingHealth = healthVariant(statusField, "string status = 1;");
const compatibleHealth = healthVariant(statusField, `${statusField}\n  optional string detail = 2;`);

// Every subject a test registers, so that afterAll can delete them, newest (referrers) first.
const registered: string[] = [];

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const subject = /^\/subjects\/([^/?]+)\/versions(\?|$)/.exec(path)?.[1];
  if (method === "POST" && subject && !registered.includes(decodeURIComponent(subject))) {
    registered.push(decodeURIComponent(subject));
  }
  return registryCall<T>(method, path, body);
}

async function ok<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await call<T>(method, path, body);
  expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBe(200);
  return response.body;
}

const protobuf = (schema: string, references: Reference[] = []) => ({
  schemaType: "PROTOBUF",
  schema,
  references,
});

// The base URL has a path (…/apis/ccompat/v7): the client appends /subjects/… to it.
const registry = new SchemaRegistry({ host: baseUrl });
let healthId: number;

afterAll(async () => {
  // Referrers first: the registry keeps a referenced version from being deleted. Subjects
  // registered through the client are not seen by call(), so the health subject is named.
  const subjects = [healthSubject, ...registered.filter((subject) => subject !== healthSubject).reverse()];
  for (const subject of subjects) {
    for (const query of ["", "?permanent=true"]) {
      const { status } = await call("DELETE", `${subjectPath(subject)}${query}`);
      expect([200, 404], `DELETE ${subject}${query}`).toContain(status);
    }
  }
  const left = await ok<string[]>("GET", "/subjects?deleted=true");
  expect(left.filter((subject) => subject.startsWith(`test-${runId}`))).toEqual([]);
});

describe("schema registry (Confluent API, Protobuf)", () => {
  it("registers health.proto with the protos it imports as references", async () => {
    await ok("POST", `${subjectPath(accessSubject)}/versions`, protobuf(accessProto));
    await ok(
      "POST",
      `${subjectPath(httpSubject)}/versions`,
      protobuf(proto("third_party/google/api/http.proto")),
    );
    await ok(
      "POST",
      `${subjectPath(annotationsSubject)}/versions`,
      protobuf(proto("third_party/google/api/annotations.proto"), [
        { name: "google/api/http.proto", subject: httpSubject, version: 1 },
      ]),
    );

    const { id } = await registry.register(
      { type: SchemaType.PROTOBUF, schema: healthProto, references: healthReferences },
      { subject: healthSubject, compatibility: COMPATIBILITY.BACKWARD },
    );
    expect(id).toBeGreaterThan(0);
    healthId = id;
  });

  it("returns it by id and by subject and version", async () => {
    const byId = await ok<SchemaById>("GET", `/schemas/ids/${healthId}`);
    expect(byId).toMatchObject({ schemaType: "PROTOBUF", schema: healthProto, references: healthReferences });

    const byVersion = await ok<SubjectVersion>("GET", `${subjectPath(healthSubject)}/versions/1`);
    expect(byVersion).toMatchObject({
      subject: healthSubject,
      id: healthId,
      version: 1,
      schemaType: "PROTOBUF",
      schema: healthProto,
    });
    expect(await registry.getRegistryId(healthSubject, 1)).toBe(healthId);
  });

  it("gives a fresh client a schema that encodes and decodes HealthCheckResponse", async () => {
    // A new client has nothing cached: it fetches the schema and its references.
    const client = new SchemaRegistry(
      { host: baseUrl },
      { [SchemaType.PROTOBUF]: { messageName: "HealthCheckResponse" } },
    );
    const encoded = await client.encode(healthId, { status: 1 });
    expect(encoded.readUInt8(0)).toBe(0);
    expect(encoded.readUInt32BE(1)).toBe(healthId);
    expect((await client.decode(encoded)).toJSON()).toEqual({ status: "SERVING" });
  });

  it("keeps the subject at BACKWARD compatibility", async () => {
    await ok("PUT", `/config/${encodeURIComponent(healthSubject)}`, { compatibility: "BACKWARD" });
    const config = await ok<{ compatibilityLevel: string }>(
      "GET",
      `/config/${encodeURIComponent(healthSubject)}`,
    );
    expect(config.compatibilityLevel).toBe("BACKWARD");
  });

  // Apicurio 3.3.3 answers POST /compatibility/… without the request's references (it
  // validates the schema alone), so a proto that imports another gets 422 "Syntax violation"
  // there; registration applies the same rule with the references resolved. The endpoint is
  // therefore asked about access.proto, which imports only a well-known type, and health.proto's
  // compatibility is proven by registering it.
  it("reports a changed field type as incompatible and a new field as compatible", async () => {
    const breaking = await ok<CompatibilityResult>(
      "POST",
      `/compatibility${subjectPath(accessSubject)}/versions/latest?verbose=true`,
      protobuf(breakingAccess),
    );
    expect(breaking.is_compatible).toBe(false);
    const compatible = await ok<CompatibilityResult>(
      "POST",
      `/compatibility${subjectPath(accessSubject)}/versions/latest`,
      protobuf(compatibleAccess),
    );
    expect(compatible.is_compatible).toBe(true);
  });

  it("rejects HealthCheckResponse.status turned from enum into string", async () => {
    const direct = await call<{ error_code: number }>(
      "POST",
      `${subjectPath(healthSubject)}/versions`,
      protobuf(breakingHealth, healthReferences),
    );
    expect(direct.status).toBe(409);
    expect(direct.body.error_code).toBe(409);

    await expect(
      registry.register(
        { type: SchemaType.PROTOBUF, schema: breakingHealth, references: healthReferences },
        { subject: healthSubject },
      ),
    ).rejects.toMatchObject({ status: 409 });
    expect(await ok<number[]>("GET", `${subjectPath(healthSubject)}/versions`)).toEqual([1]);
  });

  it("accepts a new optional field as a compatible second version", async () => {
    const { id } = await registry.register(
      { type: SchemaType.PROTOBUF, schema: compatibleHealth, references: healthReferences },
      { subject: healthSubject },
    );
    expect(id).not.toBe(healthId);
    expect(await ok<number[]>("GET", `${subjectPath(healthSubject)}/versions`)).toEqual([1, 2]);
    expect(await registry.getLatestSchemaId(healthSubject)).toBe(id);
  });
});

// Confluent's Python (confluent-kafka) and Go Protobuf serializers do not send .proto text:
// they register the generated code's FileDescriptorProto, serialized and base64-encoded, and
// each file it imports first, under a subject of its own named after the file (well-known
// google/protobuf types skipped), taking the version of each from a lookup.
describe("schema registry (Confluent API, Protobuf as a serialized FileDescriptorProto)", () => {
  const serialized = (file: DescFile): string =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)).toString("base64");
  const referenceSubject = (file: DescFile): string => `test-${runId}-serialized-${file.name}.proto`;
  const valueSubject = `test-${runId}-serialized-grpc.health.v1-value`;

  // The serializer's _resolve_dependencies: depth first, register then look up each import.
  async function registerImports(file: DescFile): Promise<Reference[]> {
    const references: Reference[] = [];
    for (const dependency of file.dependencies) {
      if (dependency.name.startsWith("google/protobuf/")) continue;
      const schema = protobuf(serialized(dependency), await registerImports(dependency));
      const subject = referenceSubject(dependency);
      await ok("POST", `${subjectPath(subject)}/versions?normalize=false`, schema);
      const found = await ok<SubjectVersion>("POST", `${subjectPath(subject)}?normalize=false`, schema);
      references.push({ name: dependency.proto.name, subject, version: found.version });
    }
    return references;
  }

  let references: Reference[];
  let id: number;

  it("registers grpc/health/v1/health.proto with its imports as references", async () => {
    references = await registerImports(file_grpc_health_v1_health);
    expect(references.map((reference) => reference.name)).toEqual([
      "google/api/annotations.proto",
      "platform/notification/v1/access.proto",
    ]);
    ({ id } = await ok<{ id: number }>(
      "POST",
      `${subjectPath(valueSubject)}/versions?normalize=false`,
      protobuf(serialized(file_grpc_health_v1_health), references),
    ));
    expect(id).toBeGreaterThan(0);
  });

  it("gives it back by id, as sent, with its references", async () => {
    const byId = await ok<SchemaById>("GET", `/schemas/ids/${id}`);
    expect(byId).toMatchObject({ schemaType: "PROTOBUF", references });
    expect(byId.schema).toBe(serialized(file_grpc_health_v1_health));
    const file = fromBinary(FileDescriptorProtoSchema, Buffer.from(byId.schema, "base64"));
    expect(file.name).toBe("grpc/health/v1/health.proto");
    expect(file.messageType.map((message) => message.name)).toContain("HealthCheckResponse");
  });

  // It reads the descriptor rather than keeping a string: the same file with a field moved to
  // another number cannot be a new version.
  it("reads the descriptor: a field moved to another number is refused", async () => {
    const breaking = clone(FileDescriptorProtoSchema, file_grpc_health_v1_health.proto);
    const service = breaking.messageType
      .find((message) => message.name === "HealthCheckRequest")
      ?.field.find((field) => field.name === "service");
    expect(service?.number).toBe(1);
    if (service) service.number = 5;
    const refused = await call<{ error_code: number }>(
      "POST",
      `${subjectPath(valueSubject)}/versions?normalize=false`,
      protobuf(Buffer.from(toBinary(FileDescriptorProtoSchema, breaking)).toString("base64"), references),
    );
    expect(refused.status).toBe(409);
    expect(refused.body.error_code).toBe(409);
    expect(await ok<number[]>("GET", `${subjectPath(valueSubject)}/versions`)).toEqual([1]);
  });
});
