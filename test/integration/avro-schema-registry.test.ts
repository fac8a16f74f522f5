import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { equals, fromJson } from "@bufbuild/protobuf";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { afterAll, describe, expect, it } from "vitest";
import { type AvroRecord, EVENT_TYPES, fromAvroRecord, toAvroRecord } from "../../consumers/index.ts";
import { SendRequestSchema } from "../../gen/platform/notification/events/v1/send_request_pb.ts";
import { registryCall, registryUrl, subjectPath } from "../support/schema-registry.ts";
import { specSendRequest } from "../support/spec-examples.ts";

// Against the real local schema registry (Apicurio Registry 3, Confluent REST API): the
// committed Avro schemas of our events (contracts/avro, generated from the protos) are
// accepted, a message framed with the registered id decodes with a client that fetches the
// schema back, and compatibility rules judge changes of the send request's schema as Avro
// defines them. BACKWARD (new readers, old data) refuses a new field without a default but
// accepts a removed one, since a reader ignores what it does not know; only FORWARD or FULL
// (old readers, new data) refuse removing a field that has no default, our required fields.

interface CompatibilityResult {
  is_compatible: boolean;
}

const baseUrl = registryUrl;
const runId = randomUUID();
const subjectOf = (type: string): string => `test-${runId}-${type}-value`;
const sendRequestType = "com.platform.notification.send.request.v1";

function committedSchema(type: string): string {
  return readFileSync(new URL(`../../contracts/avro/${type}.avsc`, import.meta.url), "utf8");
}

const sendRequestSchema = JSON.parse(committedSchema(sendRequestType)) as AvroRecord;
function sendRequestVariant(change: (schema: AvroRecord) => void): AvroRecord {
  const variant = structuredClone(sendRequestSchema);
  change(variant);
  return variant;
}
const withoutField = (name: string) =>
  sendRequestVariant((schema) => {
    expect(schema.fields.map((field) => field.name)).toContain(name);
    schema.fields = schema.fields.filter((field) => field.name !== name);
  });
const withOptionalField = sendRequestVariant((schema) => {
  schema.fields.push({ name: "note", type: ["null", "string"], default: null });
});
const withRequiredField = sendRequestVariant((schema) => {
  schema.fields.push({ name: "note", type: "string" });
});

async function ok<T>(method: string, path: string, body?: unknown): Promise<T> {
  const answer = await registryCall<T>(method, path, body);
  expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(200);
  return answer.body;
}

const avro = (schema: string | AvroRecord) => ({
  schemaType: "AVRO",
  schema: typeof schema === "string" ? schema : JSON.stringify(schema),
});

async function isCompatible(level: string, schema: AvroRecord): Promise<boolean> {
  const subject = subjectPath(subjectOf(sendRequestType));
  await ok("PUT", `/config/${encodeURIComponent(subjectOf(sendRequestType))}`, { compatibility: level });
  const result = await ok<CompatibilityResult>(
    "POST",
    `/compatibility${subject}/versions/latest`,
    avro(schema),
  );
  return result.is_compatible;
}

const ids = new Map<string, number>();

afterAll(async () => {
  for (const { type } of EVENT_TYPES) {
    if (!ids.has(type)) continue;
    for (const query of ["", "?permanent=true"])
      await ok("DELETE", `${subjectPath(subjectOf(type))}${query}`);
  }
});

describe("schema registry (Confluent API, Avro schemas generated from the event protos)", () => {
  it("accepts the schema of every event", async () => {
    for (const { type } of EVENT_TYPES) {
      const { id } = await ok<{ id: number }>(
        "POST",
        `${subjectPath(subjectOf(type))}/versions`,
        avro(committedSchema(type)),
      );
      expect(id, type).toBeGreaterThan(0);
      ids.set(type, id);
    }
  });

  it("frames the specification's send request with its id, and a fresh client decodes it", async () => {
    const id = ids.get(sendRequestType) ?? 0;
    const request = fromJson(SendRequestSchema, JSON.parse(specSendRequest));
    const encoded = await new SchemaRegistry({ host: baseUrl }).encode(
      id,
      toAvroRecord(SendRequestSchema, request),
    );
    expect(encoded.readUInt8(0)).toBe(0);
    expect(encoded.readUInt32BE(1)).toBe(id);
    const decoded = await new SchemaRegistry({ host: baseUrl }).decode(encoded);
    expect(equals(SendRequestSchema, fromAvroRecord(SendRequestSchema, decoded), request)).toBe(true);
  });

  it("BACKWARD: accepts a new optional field, refuses a new required one", async () => {
    expect(await isCompatible("BACKWARD", withOptionalField)).toBe(true);
    expect(await isCompatible("BACKWARD", withRequiredField)).toBe(false);
  });

  it("FULL: refuses removing a required field, accepts removing one with a default", async () => {
    expect(await isCompatible("FULL", withoutField("templateName"))).toBe(false);
    expect(await isCompatible("FULL", withoutField("correlationId"))).toBe(true);
    expect(await isCompatible("FULL", withOptionalField)).toBe(true);
  });

  it("BACKWARD alone lets a required field go: new readers ignore what old data has", async () => {
    expect(await isCompatible("BACKWARD", withoutField("templateName"))).toBe(true);
  });
});
