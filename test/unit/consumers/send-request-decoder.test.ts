import { create, fromJson, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import avro from "avsc";
import { describe, expect, it } from "vitest";
import {
  type AvroRecord,
  avroSchemaOf,
  frameAvro,
  frameProtobuf,
  type KafkaHeaders,
  type SchemaLookup,
  SchemaRegistryUnavailableError,
  type SchemaType,
  sendRequestDecoder,
  TOPICS,
  toAvroRecord,
} from "../../../consumers/index.ts";
import {
  file_platform_notification_events_v1_send_request,
  SendRequestSchema,
} from "../../../gen/platform/notification/events/v1/send_request_pb.ts";
import { specSendRequest } from "../../support/spec-examples.ts";

// The intake's one door, with a registry of a few schemas held in memory: both CloudEvents
// modes, every encoding of binary mode, and the reason of every kind of poison.

const spec = JSON.parse(specSendRequest);
const request = fromJson(SendRequestSchema, spec);
const ourAvro = avroSchemaOf(SendRequestSchema);
// What a producer registered later: BACKWARD compatible, one optional field more.
const newerAvro: AvroRecord = {
  ...ourAvro,
  fields: [...ourAvro.fields, { name: "note", type: ["null", "string"], default: null }],
};

const PROTO_TEXT = `syntax = "proto3";
package platform.notification.events.v1;
option (a.b) = { message: "x", nested: { message y {} } };
// message Commented {
/* message Blocked { */
message Before {
  string text = 1 [(c.d).pattern = "message Quoted {"];
  message Nested {}
}
message SendRequest {}
`;
const ID = { protobuf: 1, avro: 2, newerAvro: 3, protoText: 4, otherAvro: 5, down: 9, unknown: 404 };
const schemas = new Map<number, [SchemaType, string]>([
  [
    ID.protobuf,
    [
      "PROTOBUF",
      Buffer.from(
        toBinary(FileDescriptorProtoSchema, file_platform_notification_events_v1_send_request.proto),
      ).toString("base64"),
    ],
  ],
  [ID.avro, ["AVRO", JSON.stringify(ourAvro)]],
  [ID.newerAvro, ["AVRO", JSON.stringify(newerAvro)]],
  [
    // As Confluent's Java serializer registers it, .proto text; the second message is ours.
    ID.protoText,
    ["PROTOBUF", PROTO_TEXT],
  ],
  [
    ID.otherAvro,
    ["AVRO", JSON.stringify({ type: "record", name: "Other", fields: [{ name: "x", type: "int" }] })],
  ],
]);
const registry = {
  async schemaById(id: number): Promise<SchemaLookup> {
    if (id === ID.down) throw new SchemaRegistryUnavailableError("the registry did not answer");
    const found = schemas.get(id);
    return found
      ? { kind: "found", schema: { schemaType: found[0], schema: found[1], references: [] } }
      : { kind: "unknown" };
  },
};
const decode = sendRequestDecoder({ registry, maxBytes: 64 * 1024 });

const headers = (overrides: KafkaHeaders = {}): KafkaHeaders => ({
  ce_specversion: Buffer.from("1.0"),
  ce_id: Buffer.from("evt-1"),
  ce_source: Buffer.from("/orders-service"),
  ce_type: Buffer.from(TOPICS.sendRequests),
  ce_time: Buffer.from("2024-03-18T10:15:30Z"),
  "content-type": Buffer.from("application/protobuf"),
  ...overrides,
});
const protobuf = (indexes = [0], id = ID.protobuf, message = request) =>
  Buffer.from(frameProtobuf(id, indexes, toBinary(SendRequestSchema, message)));
const avroValue = (schema: AvroRecord, record: object, id: number) =>
  Buffer.from(frameAvro(id, avro.Type.forSchema(schema as avro.Schema).toBuffer(record)));
const avroHeaders = headers({ "content-type": "application/avro" });

describe("sendRequestDecoder", () => {
  it("reads a binary Protobuf event with the writer's schema from the registry", async () => {
    const decoded = await decode({ value: protobuf(), headers: headers() });
    expect(decoded).toEqual({
      kind: "event",
      id: "evt-1",
      source: "/orders-service",
      type: TOPICS.sendRequests,
      time: new Date("2024-03-18T10:15:30Z"),
      data: request,
    });
  });

  it("reads Protobuf whatever form of header kafkajs hands over, content-type parameters included", async () => {
    const decoded = await decode({
      value: protobuf(),
      headers: {
        ce_specversion: "1.0",
        ce_id: ["evt-2"],
        ce_source: "/orders-service",
        ce_type: [Buffer.from(TOPICS.sendRequests)],
        "Content-Type": "application/x-protobuf; charset=binary",
      },
    });
    expect(decoded).toMatchObject({ kind: "event", id: "evt-2", data: request });
    expect(decoded).not.toHaveProperty("time");
  });

  it("finds the top-level message of a schema written as .proto text, and trusts nested indexes", async () => {
    expect(await decode({ value: protobuf([1], ID.protoText), headers: headers() })).toMatchObject({
      kind: "event",
      data: request,
    });
    expect(await decode({ value: protobuf([0], ID.protoText), headers: headers() })).toMatchObject({
      kind: "poison",
      reason: "schema_mismatch",
      detail: expect.stringMatching(/names platform\.notification\.events\.v1\.Before;/),
    });
    expect(await decode({ value: protobuf([2], ID.protoText), headers: headers() })).toMatchObject({
      reason: "schema_mismatch",
    });
    // Nested indexes of text also count protoc's map entries, which only a full parser knows.
    expect(await decode({ value: protobuf([0, 0], ID.protoText), headers: headers() })).toMatchObject({
      kind: "event",
    });
  });

  it("reads Avro with the writer's schema, older or newer than ours", async () => {
    const record = toAvroRecord(SendRequestSchema, request);
    expect(await decode({ value: avroValue(ourAvro, record, ID.avro), headers: avroHeaders })).toMatchObject({
      kind: "event",
      data: request,
    });
    const newer = avroValue(newerAvro, { ...record, note: "a field we do not know yet" }, ID.newerAvro);
    expect(await decode({ value: newer, headers: avroHeaders })).toMatchObject({
      kind: "event",
      data: request,
    });
  });

  it("reads binary JSON, and structured events when no ce_specversion header is there", async () => {
    const json = await decode({
      value: Buffer.from(specSendRequest),
      headers: headers({ "content-type": "application/json" }),
    });
    expect(json).toMatchObject({ kind: "event", data: request });
    const structured = await decode({
      value: Buffer.from(
        JSON.stringify({
          specversion: "1.0",
          id: "evt-3",
          source: "/s",
          type: TOPICS.sendRequests,
          data: spec,
        }),
      ),
      headers: { "content-type": Buffer.from("application/cloudevents+json") },
    });
    expect(structured).toMatchObject({ kind: "event", id: "evt-3", data: request });
    expect(await decode({ value: null })).toMatchObject({ kind: "poison", reason: "not_a_cloud_event" });
  });

  it("names the reason of every kind of binary poison", async () => {
    const noRecipients = create(SendRequestSchema, { ...request, recipients: [] });
    const record = toAvroRecord(SendRequestSchema, request);
    const cases: [string, Buffer | null, KafkaHeaders, string, RegExp][] = [
      ["no value", null, headers(), "invalid_payload", /no value/],
      ["oversized", Buffer.alloc(70_000), headers(), "oversized", /limit is 65536/],
      ["no ce_id", protobuf(), headers({ ce_id: "" }), "not_a_cloud_event", /ce_id/],
      ["ce_source twice", protobuf(), headers({ ce_source: ["/a", "/b"] }), "not_a_cloud_event", /ce_source/],
      [
        "a header not UTF-8",
        protobuf(),
        headers({ ce_source: Buffer.of(0xff) }),
        "not_a_cloud_event",
        /UTF-8/,
      ],
      ["CloudEvents 0.3", protobuf(), headers({ ce_specversion: "0.3" }), "unsupported_specversion", /0\.3/],
      [
        "another type",
        protobuf(),
        headers({ ce_type: "com.example.other" }),
        "unexpected_type",
        /com\.example/,
      ],
      ["a bad time", protobuf(), headers({ ce_time: "yesterday" }), "not_a_cloud_event", /RFC 3339/],
      [
        "no content-type",
        protobuf(),
        headers({ "content-type": undefined }),
        "unsupported_content_type",
        /missing/,
      ],
      ["XML", protobuf(), headers({ "content-type": "application/xml" }), "unsupported_content_type", /xml/],
      ["not framed", Buffer.concat([Buffer.of(1), protobuf()]), headers(), "not_framed", /magic/],
      ["too short to be framed", Buffer.of(0, 0), avroHeaders, "not_framed", /too few/],
      ["an unknown schema", protobuf([0], ID.unknown), headers(), "unknown_schema", /no schema 404/],
      ["an Avro schema for Protobuf", protobuf([0], ID.avro), headers(), "schema_mismatch", /is AVRO/],
      [
        "a Protobuf schema for Avro",
        avroValue(ourAvro, record, ID.protobuf),
        avroHeaders,
        "schema_mismatch",
        /is PROTOBUF/,
      ],
      ["another message of the file", protobuf([1]), headers(), "schema_mismatch", /Recipient/],
      ["a message the file lacks", protobuf([7]), headers(), "schema_mismatch", /no message at \[7\]/],
      [
        "an Avro record of another name",
        avroValue(ourAvro, record, ID.otherAvro),
        avroHeaders,
        "schema_mismatch",
        /Other/,
      ],
      [
        "Protobuf that is not",
        Buffer.from(frameProtobuf(ID.protobuf, [0], Buffer.of(0xff, 0xff))),
        headers(),
        "invalid_payload",
        /./,
      ],
      [
        "truncated Avro",
        avroValue(ourAvro, record, ID.avro).subarray(0, 40),
        avroHeaders,
        "invalid_payload",
        /./,
      ],
      [
        "Avro with bytes left over",
        Buffer.concat([avroValue(ourAvro, record, ID.avro), Buffer.of(1)]),
        avroHeaders,
        "invalid_payload",
        /trailing/,
      ],
      ["no recipients", protobuf([0], ID.protobuf, noRecipients), headers(), "invalid_payload", /recipients/],
      [
        "binary JSON that is not",
        Buffer.from("{no"),
        headers({ "content-type": "application/json" }),
        "not_json",
        /UTF-8 JSON/,
      ],
      [
        "an unknown JSON field",
        Buffer.from(JSON.stringify({ ...spec, urgent: true })),
        headers({ "content-type": "application/json" }),
        "invalid_payload",
        /urgent/,
      ],
    ];
    for (const [name, value, recordHeaders, reason, detail] of cases) {
      const decoded = await decode({ value, headers: recordHeaders });
      expect({ name, kind: decoded.kind, reason: decoded.kind === "poison" ? decoded.reason : "" }).toEqual({
        name,
        kind: "poison",
        reason,
      });
      if (decoded.kind === "poison") expect(decoded.detail, name).toMatch(detail);
    }
  });

  it("rejects, never poisons, when the registry cannot answer", async () => {
    await expect(decode({ value: protobuf([0], ID.down), headers: headers() })).rejects.toBeInstanceOf(
      SchemaRegistryUnavailableError,
    );
  });
});
