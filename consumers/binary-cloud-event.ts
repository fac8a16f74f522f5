import {
  type DescMessage,
  fromBinary,
  fromJson,
  type JsonValue,
  type MessageShape,
} from "@bufbuild/protobuf";
import avro from "avsc";
import { type AvroRecord, fromAvroRecord } from "./avro/index.ts";
import { unframeAvro, unframeProtobuf } from "./confluent-framing.ts";
import {
  type DecodedEvent,
  dataChecker,
  type Poison,
  poison,
  timeOf,
  versionOrTypePoison,
} from "./decoded-event.ts";
import { type MessageAt, type MessageOutline, messageAt, outlineOf } from "./protobuf-message-index.ts";
import type { RegisteredSchema, SchemaRegistryClient } from "./schema-registry/index.ts";

/** Kafka record headers as kafkajs hands them over. */
export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export interface BinaryEventOptions<Desc extends DescMessage> {
  /** The one CloudEvents `type` the topic carries. */
  type: string;
  /** The message of its data. */
  data: Desc;
  /** The Avro schema we read that message with (contracts/avro). */
  avroSchema: AvroRecord;
  /** Where the writer's schema of a framed value is found by its id. */
  registry: Pick<SchemaRegistryClient, "schemaById">;
  /** The largest value accepted, in bytes. */
  maxBytes: number;
}

// The required attributes of CloudEvents 1.0, as the Kafka protocol binding (§3.2.3) carries
// them in binary mode: one header each, `ce_` and the attribute's name.
const REQUIRED = ["ce_id", "ce_source", "ce_specversion", "ce_type"] as const;

type Encoding = "protobuf" | "avro" | "json";
// The media types of datacontenttype (the `content-type` header) we read, by their encoding.
const ENCODINGS: Record<string, Encoding> = {
  "application/protobuf": "protobuf",
  "application/x-protobuf": "protobuf",
  "application/avro": "avro",
  "application/json": "json",
};

/**
 * A decoder of CloudEvents 1.0 in Kafka binary mode: the attributes in `ce_*` headers, the
 * data alone as the value, in the encoding its `content-type` names. Protobuf and Avro values
 * are in the Confluent wire format; their schema is fetched by its id, and Avro is read with
 * that writer's schema resolved to ours, so data a producer wrote with a newer compatible
 * version is read. JSON values are the data's proto3 JSON. The data is then checked as the
 * structured decoder checks it.
 *
 * Never rejects for a bad record (it comes back as poison with the reason); rejects with
 * SchemaRegistryUnavailableError when the registry cannot say what a schema id is.
 */
export function binaryEventDecoder<Desc extends DescMessage>(options: BinaryEventOptions<Desc>) {
  const check = dataChecker(options.data);
  const reader = avro.Type.forSchema(options.avroSchema as avro.Schema);
  // Schemas never change under their id: what each one resolves to is worked out once.
  const resolvers = new Map<number, { resolver: avro.Resolver } | Poison>();
  const outlines = new Map<number, MessageOutline | undefined>();

  async function dataOf(
    encoding: Encoding,
    value: Uint8Array,
  ): Promise<{ data: MessageShape<Desc> } | Poison> {
    if (encoding === "json") {
      let json: JsonValue;
      try {
        json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(value)) as JsonValue;
      } catch (error) {
        return poison("not_json", `not UTF-8 JSON: ${(error as Error).message}`);
      }
      return attempt(() => fromJson(options.data, json));
    }
    const unframed = encoding === "protobuf" ? unframeProtobuf(value) : unframeAvro(value);
    if (!unframed.framed) return poison("not_framed", unframed.detail);
    const { schemaId, messageIndexes, payload } = unframed.frame;
    const lookup = await options.registry.schemaById(schemaId);
    if (lookup.kind === "unknown") return poison("unknown_schema", `the registry has no schema ${schemaId}`);
    const schema = lookup.schema;
    const expected = encoding === "protobuf" ? "PROTOBUF" : "AVRO";
    if (schema.schemaType !== expected) {
      return poison(
        "schema_mismatch",
        `schema ${schemaId} is ${schema.schemaType}; the content-type says ${encoding}`,
      );
    }
    if (encoding === "protobuf") {
      const named = messageNameProblem(schemaId, schema, messageIndexes);
      if (named) return named;
      return attempt(() => fromBinary(options.data, payload));
    }
    const resolved = resolverOf(schemaId, schema);
    if ("kind" in resolved) return resolved;
    const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    return attempt(() => fromAvroRecord(options.data, reader.fromBuffer(bytes, resolved.resolver)));
  }

  function resolverOf(schemaId: number, schema: RegisteredSchema): { resolver: avro.Resolver } | Poison {
    let resolver = resolvers.get(schemaId);
    if (!resolver) {
      try {
        resolver = {
          resolver: reader.createResolver(avro.Type.forSchema(JSON.parse(schema.schema) as avro.Schema)),
        };
      } catch (error) {
        resolver = poison(
          "schema_mismatch",
          `schema ${schemaId} cannot be read as ${options.avroSchema.name}: ${(error as Error).message}`,
        );
      }
      resolvers.set(schemaId, resolver);
    }
    return resolver;
  }

  // The message indexes name a message of the writer's file: it has to be ours.
  function messageNameProblem(
    schemaId: number,
    schema: RegisteredSchema,
    indexes: number[],
  ): Poison | undefined {
    if (!outlines.has(schemaId)) outlines.set(schemaId, outlineOf(schema.schema));
    const outline = outlines.get(schemaId);
    const found: MessageAt = outline ? messageAt(outline, indexes) : { kind: "untold" };
    if (found.kind === "absent") {
      return poison("schema_mismatch", `schema ${schemaId} has no message at [${indexes.join(", ")}]`);
    }
    if (found.kind === "message" && found.name !== options.data.typeName) {
      return poison(
        "schema_mismatch",
        `schema ${schemaId} names ${found.name.slice(0, 200)}; this topic carries ${options.data.typeName}`,
      );
    }
    return undefined;
  }

  return async function decode(
    value: Uint8Array | null,
    headers: KafkaHeaders,
  ): Promise<DecodedEvent<MessageShape<Desc>>> {
    if (value === null) return poison("invalid_payload", "the record has no value");
    if (value.byteLength > options.maxBytes) {
      return poison(
        "oversized",
        `the record has ${value.byteLength} bytes; the limit is ${options.maxBytes}`,
      );
    }
    const attributes = headerValues(headers);
    if ("kind" in attributes) return attributes;
    for (const name of REQUIRED) {
      if (!attributes.get(name)) {
        return poison("not_a_cloud_event", `the required header "${name}" is missing or empty`);
      }
    }
    const refused = versionOrTypePoison(
      attributes.get("ce_specversion"),
      attributes.get("ce_type"),
      options.type,
    );
    if (refused) return refused;
    const time = timeOf(attributes.get("ce_time"));
    if ("kind" in time) return time;
    const contentType = attributes.get("content-type");
    const encoding = contentType === undefined ? undefined : ENCODINGS[mediaTypeOf(contentType)];
    if (!encoding) {
      return poison(
        "unsupported_content_type",
        `content-type ${contentType?.slice(0, 100) ?? "missing"}; binary events carry ${Object.keys(ENCODINGS).join(", ")}`,
      );
    }
    const read = await dataOf(encoding, value);
    if ("kind" in read) return read;
    const data = read.data;
    const violations = check(data);
    if (violations.length > 0) return poison("invalid_payload", violations.join("; "));
    return {
      kind: "event",
      id: attributes.get("ce_id") as string,
      source: attributes.get("ce_source") as string,
      type: options.type,
      ...time,
      data,
    };
  };
}

/** The headers as text by their lowercase names, or poison when one is repeated or not UTF-8. */
function headerValues(headers: KafkaHeaders): Map<string, string> | Poison {
  const values = new Map<string, string>();
  for (const [key, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const name = key.toLowerCase();
    const all = Array.isArray(raw) ? raw : [raw];
    if (all.length === 0) continue;
    if (all.length > 1 || values.has(name)) {
      return poison("not_a_cloud_event", `the header "${name.slice(0, 40)}" is given more than once`);
    }
    try {
      const [one] = all;
      values.set(name, typeof one === "string" ? one : new TextDecoder("utf-8", { fatal: true }).decode(one));
    } catch {
      return poison("not_a_cloud_event", `the header "${name.slice(0, 40)}" is not UTF-8`);
    }
  }
  return values;
}

function mediaTypeOf(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

function attempt<T>(read: () => T): { data: T } | Poison {
  try {
    return { data: read() };
  } catch (error) {
    return poison("invalid_payload", (error as Error).message);
  }
}
