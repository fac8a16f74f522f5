import { type DescEnum, type DescField, type DescMessage, getOption, ScalarType } from "@bufbuild/protobuf";
import { StructSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { field as validateRules } from "../../gen/buf/validate/validate_pb.ts";

/**
 * Avro schemas of our proto messages, so that a Confluent Avro consumer (Java, Python, Go)
 * reads the same events as Protobuf and JSON consumers do. The mapping:
 *
 * - Field names are the proto JSON names (`requestId`), so an Avro record has the names of
 *   the CloudEvents JSON `data` that every other consumer sees.
 * - Scalars: string → string, bytes → bytes, bool → boolean, double → double, float → float,
 *   int32/sint32/sfixed32 → int, uint32/fixed32 → long (an int cannot hold them),
 *   int64/sint64/sfixed64 → long. uint64/fixed64 are refused: above 2^63 no Avro type holds them.
 * - Messages → records named by their proto full name (namespace = proto package, and the
 *   parent message for nested ones); a record used twice is referenced by name.
 * - Enums → Avro enums of the proto value names, defaulting to the zero value, so a reader
 *   that meets a symbol it does not know reads the zero value, as proto3 does.
 * - repeated → array (default []). Maps and oneofs are refused until an event needs them.
 * - google.protobuf.Timestamp → long with logicalType timestamp-micros: PostgreSQL keeps
 *   microseconds, Java and Python Avro readers turn it into an Instant / datetime, and the
 *   nanoseconds below a microsecond, which we never store, are dropped.
 * - google.protobuf.Struct → string holding the JSON object: a recursive union of the JSON
 *   types is valid Avro, but Kafka Connect, ksqlDB and most sinks cannot read recursive
 *   schemas, while every Avro reader can read a string and parse it.
 * - The proto comments, when given, become the `doc` of records, fields and enums.
 * - Presence and defaults follow proto3, so that adding or removing a field evolves the schema
 *   compatibly, as it does the proto: a message field or a proto3 optional field is a union
 *   with null (default null); any other field defaults to its zero value. A field that
 *   protovalidate marks `required` has no default (and no null): the registry then refuses a
 *   schema that drops it (FORWARD) or adds a new one (BACKWARD), as old data would not hold it.
 */

export type AvroPrimitive = "null" | "boolean" | "int" | "long" | "float" | "double" | "bytes" | "string";

export interface AvroRecord {
  type: "record";
  name: string;
  namespace: string;
  doc?: string;
  fields: AvroField[];
}

export interface AvroField {
  name: string;
  doc?: string;
  type: AvroType;
  default?: AvroDefault;
}

export interface AvroEnum {
  type: "enum";
  name: string;
  namespace: string;
  doc?: string;
  symbols: string[];
  default: string;
}

export interface AvroArray {
  type: "array";
  items: AvroValueType;
}

export interface AvroTimestampMicros {
  type: "long";
  logicalType: "timestamp-micros";
}

/** A type, or a reference to a named type already defined (its full name). */
export type AvroValueType = AvroPrimitive | AvroRecord | AvroEnum | AvroArray | AvroTimestampMicros | string;

/** A field's type: a value type, or a value type or null. */
export type AvroType = AvroValueType | ["null", AvroValueType];

type AvroDefault = null | boolean | number | string | [];

/**
 * The Avro record schema of a proto message, with every type it uses defined inside it. `docs`
 * are the proto comments by full name ("pkg.Message", "pkg.Message.field_name", "pkg.Enum"),
 * written as the Avro `doc` of records, fields and enums.
 */
export function avroSchemaOf(
  message: DescMessage,
  docs: ReadonlyMap<string, string> = new Map(),
): AvroRecord {
  return recordOf(message, { defined: new Set(), docs });
}

interface Context {
  /** The full names of the records and enums already written, which are then referenced by name. */
  defined: Set<string>;
  docs: ReadonlyMap<string, string>;
}

/** `{ doc }` when the declaration has a comment, else nothing, so the schema has no empty docs. */
function docOf(fullName: string, context: Context): { doc?: string } {
  const doc = context.docs.get(fullName);
  return doc ? { doc } : {};
}

/** How a field is read and written in Avro; avro-record.ts follows the same choice. */
export function avroPresenceOf(field: DescField): "required" | "nullable" | "zero-default" {
  if (getOption(field, validateRules).required) return "required";
  if (field.fieldKind === "message" || field.proto.proto3Optional) return "nullable";
  return "zero-default";
}

function recordOf(message: DescMessage, context: Context): AvroRecord {
  context.defined.add(message.typeName);
  return {
    type: "record",
    ...nameOf(message),
    ...docOf(message.typeName, context),
    fields: message.fields.map((field) => fieldOf(field, context)),
  };
}

function nameOf(desc: DescMessage | DescEnum): { name: string; namespace: string } {
  const namespace = desc.parent ? desc.parent.typeName : desc.file.proto.package;
  return { name: desc.name, namespace };
}

function fieldOf(field: DescField, context: Context): AvroField {
  if (field.oneof) throw new Error(`${field}: oneofs have no Avro mapping yet`);
  const name = field.jsonName;
  const doc = fieldDocOf(field, context);
  const presence = avroPresenceOf(field);
  if (field.fieldKind === "map") throw new Error(`${field}: maps have no Avro mapping yet`);
  if (field.fieldKind === "list") {
    const type: AvroArray = { type: "array", items: valueTypeOf(field, context) };
    return presence === "required" ? { name, ...doc, type } : { name, ...doc, type, default: [] };
  }
  const type = valueTypeOf(field, context);
  switch (presence) {
    case "required":
      return { name, ...doc, type };
    case "nullable":
      return { name, ...doc, type: ["null", type], default: null };
    case "zero-default":
      return { name, ...doc, type, default: zeroOf(field) };
  }
}

function fieldDocOf(field: DescField, context: Context): { doc?: string } {
  const comment = context.docs.get(`${field.parent.typeName}.${field.name}`);
  const format = field.message?.typeName === StructSchema.typeName ? "A JSON object, as text." : undefined;
  const doc = [comment, format].filter(Boolean).join("\n\n");
  return doc ? { doc } : {};
}

/** The Avro type of one value of the field (an item, for a list). */
function valueTypeOf(field: DescField, context: Context): AvroValueType {
  if (field.enum) return enumOf(field.enum, context);
  if (field.message) return messageTypeOf(field.message, context);
  if (field.scalar !== undefined) return scalarTypeOf(field.scalar, field);
  throw new Error(`${field}: no Avro mapping`);
}

function messageTypeOf(message: DescMessage, context: Context): AvroValueType {
  if (message.typeName === TimestampSchema.typeName) return { type: "long", logicalType: "timestamp-micros" };
  if (message.typeName === StructSchema.typeName) return "string";
  if (message.file.proto.package === "google.protobuf") {
    throw new Error(`${message.typeName} has no Avro mapping yet`);
  }
  if (context.defined.has(message.typeName)) return message.typeName;
  return recordOf(message, context);
}

function enumOf(desc: DescEnum, context: Context): AvroEnum | string {
  if (context.defined.has(desc.typeName)) return desc.typeName;
  context.defined.add(desc.typeName);
  const symbols = desc.values.map((value) => value.name);
  // proto3 makes the first value the zero value.
  return {
    type: "enum",
    ...nameOf(desc),
    ...docOf(desc.typeName, context),
    symbols,
    default: symbols[0] ?? "",
  };
}

function scalarTypeOf(scalar: ScalarType, field: DescField): AvroPrimitive {
  switch (scalar) {
    case ScalarType.STRING:
      return "string";
    case ScalarType.BYTES:
      return "bytes";
    case ScalarType.BOOL:
      return "boolean";
    case ScalarType.DOUBLE:
      return "double";
    case ScalarType.FLOAT:
      return "float";
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return "int";
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return "long";
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      throw new Error(`${field}: unsigned 64-bit integers have no Avro type; use int64`);
  }
}

function zeroOf(field: DescField): AvroDefault {
  if (field.enum) return field.enum.values[0]?.name ?? "";
  switch (field.scalar) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return "";
    case ScalarType.BOOL:
      return false;
    default:
      return 0;
  }
}
