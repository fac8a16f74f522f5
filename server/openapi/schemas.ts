import { type DescEnum, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import type { Schema } from "./openapi-types.ts";
import type { ProtoComments } from "./proto-comments.ts";
import {
  mapKeywords,
  mustBeSent,
  repeatedKeywords,
  requiredKeywords,
  ruleNotes,
  rulesOf,
  valueKeywords,
} from "./validation-rules.ts";

// Well-known types have a JSON form of their own in the proto3 JSON mapping.
const WRAPPERS = new Set(
  ["Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes"].map(
    (name) => `google.protobuf.${name}Value`,
  ),
);
const WELL_KNOWN: Record<string, Schema> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$", examples: ["1.5s"] },
  "google.protobuf.FieldMask": { type: "string", examples: ["name,description"] },
  "google.protobuf.Struct": { type: "object" },
  "google.protobuf.Value": {},
  "google.protobuf.ListValue": { type: "array" },
  "google.protobuf.Empty": { type: "object" },
  "google.protobuf.Any": {
    type: "object",
    properties: { "@type": { type: "string" } },
    required: ["@type"],
  },
};
/** Well-known types a query parameter can set, as the transcoder reads them. */
const QUERY_FORM = new Set([
  ...WRAPPERS,
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
]);

export function isWellKnown(message: DescMessage): boolean {
  return WRAPPERS.has(message.typeName) || Object.hasOwn(WELL_KNOWN, message.typeName);
}

export function isQueryForm(message: DescMessage): boolean {
  return QUERY_FORM.has(message.typeName);
}

/**
 * JSON Schemas of messages and enums as our REST surface writes them: the proto3 JSON
 * mapping with proto field names. Messages and enums become components, by full name.
 */
export class SchemaCatalog {
  readonly components: Record<string, Schema> = {};

  constructor(private readonly comments: ProtoComments) {}

  /** A reference to the component of a message or enum, or the inline form of a well-known type. */
  typeSchema(type: DescMessage | DescEnum): Schema {
    if (type.kind === "enum" && type.typeName === "google.protobuf.NullValue") return { type: "null" };
    if (type.kind === "message" && WRAPPERS.has(type.typeName)) {
      const value = type.fields[0];
      return value?.fieldKind === "scalar" ? scalarSchema(value.scalar) : {};
    }
    const wellKnown = Object.hasOwn(WELL_KNOWN, type.typeName) ? WELL_KNOWN[type.typeName] : undefined;
    if (wellKnown) return structuredClone(wellKnown);
    if (!(type.typeName in this.components)) {
      // Claimed before it is built, so that a message that contains itself ends.
      this.components[type.typeName] = {};
      this.components[type.typeName] =
        type.kind === "enum" ? this.enumSchema(type) : this.messageSchema(type);
    }
    return { $ref: `#/components/schemas/${type.typeName}` };
  }

  /** The object schema of a message; `omit` leaves out fields that the path sets. */
  messageSchema(message: DescMessage, omit: ReadonlySet<string> = new Set()): Schema {
    const fields = message.fields.filter((field) => !omit.has(field.name));
    const properties = Object.fromEntries(fields.map((field) => [field.name, this.fieldSchema(field)]));
    const required = fields.filter(mustBeSent).map((field) => field.name);
    const oneofs = message.oneofs.map((oneof) => oneof.fields.map((field) => field.name));
    const notes = message.oneofs.map(
      (oneof) => `At most one of ${oneof.fields.map((field) => `\`${field.name}\``).join(", ")} is set.`,
    );
    const description = [this.comments.get(message.typeName), ...notes].filter(Boolean).join("\n\n");
    const exclusive = oneofs.flatMap((names) =>
      names.flatMap((a, i) => names.slice(i + 1).map((b) => ({ not: { required: [a, b] } }))),
    );
    return {
      type: "object",
      ...(description ? { description } : {}),
      properties,
      ...(required.length > 0 ? { required } : {}),
      // The transcoder decodes bodies strictly: a field the message does not have is refused.
      additionalProperties: false,
      ...(exclusive.length > 0 ? { allOf: exclusive } : {}),
    };
  }

  /** A field's schema with its comment and validation rules. */
  fieldSchema(field: DescField): Schema {
    const rules = rulesOf(field);
    let schema: Schema;
    switch (field.fieldKind) {
      case "scalar":
        schema = { ...scalarSchema(field.scalar), ...valueKeywords(rules) };
        break;
      case "enum":
        schema = { ...this.typeSchema(field.enum), ...valueKeywords(rules, field.enum) };
        break;
      case "message":
        schema = this.typeSchema(field.message);
        break;
      case "list": {
        const items =
          field.listKind === "scalar"
            ? scalarSchema(field.scalar)
            : this.typeSchema(field.listKind === "enum" ? field.enum : field.message);
        const itemRules = rules?.type.case === "repeated" ? rules.type.value.items : undefined;
        Object.assign(items, valueKeywords(itemRules, field.listKind === "enum" ? field.enum : undefined));
        schema = { type: "array", items, ...repeatedKeywords(rules) };
        break;
      }
      case "map": {
        const values =
          field.mapKind === "scalar"
            ? scalarSchema(field.scalar)
            : this.typeSchema(field.mapKind === "enum" ? field.enum : field.message);
        const mapRules = rules?.type.case === "map" ? rules.type.value : undefined;
        Object.assign(
          values,
          valueKeywords(mapRules?.values, field.mapKind === "enum" ? field.enum : undefined),
        );
        const keys = { ...mapKeySchema(field.mapKey), ...valueKeywords(mapRules?.keys) };
        schema = {
          type: "object",
          ...(Object.keys(keys).length > 0 ? { propertyNames: keys } : {}),
          additionalProperties: values,
          ...mapKeywords(rules),
        };
        break;
      }
    }
    Object.assign(schema, requiredKeywords(rules, field, schema));
    const description = [this.comments.get(`${field.parent.typeName}.${field.name}`), ...ruleNotes(rules)]
      .filter(Boolean)
      .join("\n\n");
    if (description) schema.description = description;
    if (field.deprecated) schema.deprecated = true;
    return schema;
  }

  private enumSchema(type: DescEnum): Schema {
    const values = type.values
      .filter((value) => this.comments.has(`${type.typeName}.${value.name}`))
      .map((value) => `- \`${value.name}\`: ${this.comments.get(`${type.typeName}.${value.name}`)}`);
    const description = [this.comments.get(type.typeName), values.join("\n")].filter(Boolean).join("\n\n");
    return {
      type: "string",
      enum: type.values.map((value) => value.name),
      ...(description ? { description } : {}),
    };
  }
}

function scalarSchema(type: ScalarType): Schema {
  switch (type) {
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      // The proto3 JSON mapping refuses a number out of the field's range.
      return { type: "integer", format: "int32", minimum: -2147483648, maximum: 2147483647 };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", minimum: 0, maximum: 4294967295 };
    // 64-bit integers are strings in proto JSON: a JavaScript number would lose digits.
    // Longer than 2^63 (19 digits and a sign) or 2^64 (20 digits), they are out of range.
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64", pattern: "^-?[0-9]+$", maxLength: 20 };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64", pattern: "^[0-9]+$", maxLength: 20 };
  }
}

/** JSON object keys are strings: integer and boolean map keys are written as text. */
function mapKeySchema(key: ScalarType): Schema {
  if (key === ScalarType.STRING) return {};
  if (key === ScalarType.BOOL) return { enum: ["true", "false"] };
  return { pattern: "^-?[0-9]+$" };
}
