import {
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  ScalarType,
} from "@bufbuild/protobuf";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";

// Well-known types whose proto JSON form is a plain string or number, so a query
// parameter can set them directly.
const STRING_FORM_MESSAGES = new Set([
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
]);
const NUMBER_FORM_MESSAGES = new Set([
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.FloatValue",
  "google.protobuf.DoubleValue",
]);

function invalidParameter(parameter: string, detail: string): DomainError {
  return new DomainError(ErrorCatalog.validation, detail, { parameter });
}

function fieldByName(message: DescMessage, name: string): DescField | undefined {
  return message.fields.find((field) => field.name === name || field.jsonName === name);
}

/**
 * The proto JSON fragment that sets the field at `path` (dot-separated proto or JSON
 * names) to the text values of a query parameter or path variable, typed by the
 * descriptor: `{"a": {"b": 5}}` for `a.b=5`.
 */
export function jsonFragmentFor(
  message: DescMessage,
  path: string,
  values: string[],
  parameter: string,
): JsonObject {
  const names = path.split(".");
  const fragment: JsonObject = {};
  let target = fragment;
  let schema = message;
  for (let i = 0; i < names.length; i++) {
    const field = fieldByName(schema, names[i] ?? "");
    if (!field) throw invalidParameter(parameter, `unknown parameter "${parameter}"`);
    const last = i === names.length - 1;
    if (!last) {
      if (field.fieldKind !== "message" || STRING_FORM_MESSAGES.has(field.message.typeName)) {
        throw invalidParameter(parameter, `"${parameter}" does not name a field of a nested message`);
      }
      const nested: JsonObject = {};
      target[field.name] = nested;
      target = nested;
      schema = field.message;
      continue;
    }
    target[field.name] = fieldValue(field, values, parameter);
  }
  return fragment;
}

function fieldValue(field: DescField, values: string[], parameter: string): JsonValue {
  if (field.fieldKind === "list") {
    if (field.listKind === "message")
      throw invalidParameter(parameter, `"${parameter}" cannot be set from a query`);
    return values.map((value) =>
      field.listKind === "enum"
        ? enumValue(field.enum.values, value, parameter, field.enum.sharedPrefix)
        : scalarValue(field.scalar, value, parameter),
    );
  }
  if (values.length > 1)
    throw invalidParameter(parameter, `"${parameter}" takes one value, got ${values.length}`);
  const value = values[0] ?? "";
  switch (field.fieldKind) {
    case "scalar":
      return scalarValue(field.scalar, value, parameter);
    case "enum":
      return enumValue(field.enum.values, value, parameter, field.enum.sharedPrefix);
    case "message":
      if (STRING_FORM_MESSAGES.has(field.message.typeName)) return value;
      if (NUMBER_FORM_MESSAGES.has(field.message.typeName)) return numberValue(value, parameter);
      if (field.message.typeName === "google.protobuf.BoolValue") return boolValue(value, parameter);
      throw invalidParameter(
        parameter,
        `"${parameter}" is a message: set its fields as ${parameter}.<field>`,
      );
    case "map":
      throw invalidParameter(parameter, `"${parameter}" is a map and cannot be set from a query`);
  }
}

function scalarValue(type: ScalarType, value: string, parameter: string): JsonValue {
  switch (type) {
    case ScalarType.BOOL:
      return boolValue(value, parameter);
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return value;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      if (!/^-?\d+$/.test(value))
        throw invalidParameter(parameter, `"${parameter}" must be an integer, got "${value}"`);
      return value;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      if (!/^\d+$/.test(value))
        throw invalidParameter(parameter, `"${parameter}" must be a non-negative integer, got "${value}"`);
      return value;
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return numberValue(value, parameter);
    default: {
      const number = numberValue(value, parameter);
      if (!Number.isInteger(number))
        throw invalidParameter(parameter, `"${parameter}" must be an integer, got "${value}"`);
      return number;
    }
  }
}

function numberValue(value: string, parameter: string): number {
  const number = value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(number))
    throw invalidParameter(parameter, `"${parameter}" must be a number, got "${value}"`);
  return number;
}

function boolValue(value: string, parameter: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw invalidParameter(parameter, `"${parameter}" must be true or false, got "${value}"`);
}

/**
 * An enum value by its name (any case), by the name without the enum's shared prefix
 * (`email` for CHANNEL_EMAIL, as the specification writes channels), or by number.
 */
function enumValue(
  values: readonly { name: string; number: number }[],
  value: string,
  parameter: string,
  sharedPrefix = "",
): JsonValue {
  const names = [value.toUpperCase(), `${sharedPrefix}${value}`.toUpperCase()];
  const match = values.find((candidate) => names.includes(candidate.name.toUpperCase()));
  if (match) return match.name;
  if (/^\d+$/.test(value) && values.some((candidate) => candidate.number === Number(value)))
    return Number(value);
  const allowed = values.map((candidate) => candidate.name).join(", ");
  throw invalidParameter(parameter, `"${parameter}" must be one of ${allowed}, got "${value}"`);
}
