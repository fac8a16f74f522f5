import { randomUUID } from "node:crypto";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, describe, expect, it } from "vitest";
import { registerOurSchemas, SchemaRegistryClient } from "../../consumers/index.ts";
import { registryCall, registryUrl, subjectPath } from "../support/schema-registry.ts";

// registerOurSchemas against the real local registry (Apicurio Registry 3, Confluent API),
// under subjects of this run only: what lands where, that a second start changes nothing, and
// that a subject holds one schema type.

const prefix = `test-${randomUUID()}-`;
const client = new SchemaRegistryClient({ url: registryUrl });
const subjects = {
  validate: `${prefix}buf/validate/validate.proto`,
  sendRequest: `${prefix}com.platform.notification.send.request.v1-value`,
  sendRequestAvro: `${prefix}platform.notification.events.v1.SendRequest`,
  status: `${prefix}com.platform.notification.events.v1-value`,
  statusAvro: `${prefix}platform.notification.events.v1.MessageStatusUpdated`,
};

afterAll(async () => {
  // Referrers first: the registry keeps a referenced version from being deleted.
  for (const subject of Object.values(subjects).reverse()) {
    for (const query of ["", "?permanent=true"]) {
      const { status } = await registryCall("DELETE", `${subjectPath(subject)}${query}`);
      expect([200, 404], `DELETE ${subject}${query}`).toContain(status);
    }
  }
});

describe("registerOurSchemas", () => {
  let ids: Map<string, number>;

  it("registers Protobuf under <topic>-value with its import as a reference, Avro under the record name", async () => {
    ids = await registerOurSchemas(client, { subjectPrefix: prefix });
    expect([...ids.keys()].sort()).toEqual(Object.values(subjects).sort());

    const sendRequest = await client.schemaById(ids.get(subjects.sendRequest) ?? 0);
    if (sendRequest.kind !== "found") throw new Error("the send request's schema is not found by its id");
    expect(sendRequest.schema).toMatchObject({
      schemaType: "PROTOBUF",
      references: [{ name: "buf/validate/validate.proto", subject: subjects.validate, version: 1 }],
    });
    // Given back as registered: the serialized descriptor Confluent's serializers can parse.
    const file = fromBinary(FileDescriptorProtoSchema, Buffer.from(sendRequest.schema.schema, "base64"));
    expect(file.name).toBe("platform/notification/events/v1/send_request.proto");

    const avro = await client.schemaById(ids.get(subjects.sendRequestAvro) ?? 0);
    expect(avro).toMatchObject({ kind: "found", schema: { schemaType: "AVRO" } });
  });

  it("changes nothing when the worker starts again", async () => {
    expect(await registerOurSchemas(client, { subjectPrefix: prefix })).toEqual(ids);
    for (const subject of Object.values(subjects)) {
      const versions = await registryCall<number[]>("GET", `${subjectPath(subject)}/versions`);
      expect(versions.body, subject).toEqual([1]);
    }
  });

  it("keeps every subject BACKWARD", async () => {
    for (const subject of Object.values(subjects)) {
      const config = await registryCall<{ compatibilityLevel: string }>(
        "GET",
        `/config/${encodeURIComponent(subject)}`,
      );
      expect(config.body.compatibilityLevel, subject).toBe("BACKWARD");
    }
  });

  // Measured on Apicurio 3.3.3: an Avro schema sent to a subject that holds Protobuf is refused
  // (422), which is why Avro has subjects of its own.
  it("sees an Avro schema refused in the Protobuf subject", async () => {
    const avro = await client.schemaById(ids.get(subjects.sendRequestAvro) ?? 0);
    if (avro.kind !== "found") throw new Error("no Avro schema");
    await expect(client.register(subjects.sendRequest, avro.schema.schema, "AVRO")).rejects.toMatchObject({
      name: "SchemaRegistryRefusedError",
      status: 422,
    });
  });

  it("answers unknown for an id the registry never gave", async () => {
    expect(await client.schemaById(0x7fff_fff0)).toEqual({ kind: "unknown" });
  });
});
