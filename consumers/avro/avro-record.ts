import {
  create,
  type DescField,
  type DescMessage,
  fromJson,
  isMessage,
  type Message,
  type MessageShape,
  ScalarType,
  toJson,
} from "@bufbuild/protobuf";
import { isReflectMessage, type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { StructSchema, type Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { avroPresenceOf } from "./avro-schema.ts";

/**
 * Proto messages as the values avsc encodes with the schemas of avro-schema.ts, and back.
 * Unions are unwrapped (avsc's default for a union with null): a value or null.
 */

export type AvroValue = null | boolean | number | string | Buffer | AvroValue[] | AvroRecordValue;
export interface AvroRecordValue {
  [field: string]: AvroValue;
}

const MICROS_PER_SECOND = 1_000_000n;

export function toAvroRecord(desc: DescMessage, message: Message): AvroRecordValue {
  return recordOf(reflect(desc, message));
}

export function fromAvroRecord<Desc extends DescMessage>(
  desc: Desc,
  record: AvroRecordValue,
): MessageShape<Desc> {
  const message = create(desc);
  fill(reflect(desc, message), record);
  return message;
}

function recordOf(message: ReflectMessage): AvroRecordValue {
  const record: AvroRecordValue = {};
  for (const field of message.fields) {
    record[field.jsonName] = fieldValueOf(message, field);
  }
  return record;
}

function fieldValueOf(message: ReflectMessage, field: DescField): AvroValue {
  switch (field.fieldKind) {
    case "list":
      return [...message.get(field)].map((item) => itemOf(field, item));
    case "message":
      return message.isSet(field) ? messageValueOf(message.get(field)) : null;
    case "enum":
      if (avroPresenceOf(field) === "nullable" && !message.isSet(field)) return null;
      return enumSymbolOf(field, message.get(field));
    case "scalar":
      if (avroPresenceOf(field) === "nullable" && !message.isSet(field)) return null;
      return scalarOf(field.scalar, message.get(field));
    case "map":
      throw new Error(`${field}: maps have no Avro mapping yet`);
  }
}

function itemOf(field: DescField & { fieldKind: "list" }, item: unknown): AvroValue {
  switch (field.listKind) {
    case "message":
      if (!isReflectMessage(item)) throw new TypeError(`${field}: an item is not a message`);
      return messageValueOf(item);
    case "enum":
      if (typeof item !== "number") throw new TypeError(`${field}: an item is not an enum number`);
      return enumSymbolOf(field, item);
    case "scalar":
      return scalarOf(field.scalar, item);
  }
}

function messageValueOf(value: ReflectMessage): AvroValue {
  const message = value.message;
  if (isMessage(message, TimestampSchema)) return microsOf(message);
  if (isMessage(message, StructSchema)) return JSON.stringify(toJson(StructSchema, message));
  return recordOf(value);
}

function microsOf(timestamp: Timestamp): number {
  const micros = timestamp.seconds * MICROS_PER_SECOND + BigInt(Math.trunc(timestamp.nanos / 1000));
  return safeNumberOf(micros);
}

function enumSymbolOf(field: DescField, number: number): string {
  const value = field.enum?.values.find((candidate) => candidate.number === number);
  if (!value) throw new Error(`${field}: ${number} is not a value of ${field.enum?.typeName}`);
  return value.name;
}

function scalarOf(scalar: ScalarType, value: unknown): AvroValue {
  if (typeof value === "bigint") return safeNumberOf(value);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  throw new Error(`unexpected ${ScalarType[scalar]} value ${String(value)}`);
}

/** avsc's long is a JavaScript number: refuse what it would round. */
function safeNumberOf(value: bigint): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number))
    throw new RangeError(`${value} is beyond what an Avro long holds exactly here`);
  return number;
}

function fill(message: ReflectMessage, record: AvroRecordValue): void {
  for (const field of message.fields) {
    const value = record[field.jsonName];
    if (value === undefined || value === null) continue;
    switch (field.fieldKind) {
      case "list": {
        const list = message.get(field);
        if (!Array.isArray(value)) throw new TypeError(`${field}: expected an array`);
        for (const item of value) list.add(protoItemOf(field, item));
        break;
      }
      case "message":
        message.set(field, protoMessageOf(field, field.message, value));
        break;
      case "enum":
        message.set(field, enumNumberOf(field, stringOf(field, value)));
        break;
      case "scalar":
        message.set(field, protoScalarOf(field, field.scalar, value));
        break;
      case "map":
        throw new Error(`${field}: maps have no Avro mapping yet`);
    }
  }
}

function protoItemOf(field: DescField & { fieldKind: "list" }, item: AvroValue): unknown {
  switch (field.listKind) {
    case "message":
      return protoMessageOf(field, field.message, item);
    case "enum":
      return enumNumberOf(field, stringOf(field, item));
    case "scalar":
      return protoScalarOf(field, field.scalar, item);
  }
}

function protoMessageOf(field: DescField, desc: DescMessage, value: AvroValue): ReflectMessage {
  if (desc.typeName === TimestampSchema.typeName) {
    return reflect(TimestampSchema, timestampOf(numberOf(field, value)));
  }
  if (desc.typeName === StructSchema.typeName) {
    return reflect(StructSchema, fromJson(StructSchema, JSON.parse(stringOf(field, value))));
  }
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new TypeError(`${field}: expected a record`);
  }
  const message = reflect(desc);
  fill(message, value);
  return message;
}

function timestampOf(micros: number): Timestamp {
  const total = BigInt(micros);
  let seconds = total / MICROS_PER_SECOND;
  let rest = total % MICROS_PER_SECOND;
  if (rest < 0n) {
    seconds -= 1n;
    rest += MICROS_PER_SECOND;
  }
  return create(TimestampSchema, { seconds, nanos: Number(rest) * 1000 });
}

function enumNumberOf(field: DescField, symbol: string): number {
  const value = field.enum?.values.find((candidate) => candidate.name === symbol);
  if (!value) throw new Error(`${field}: ${symbol} is not a value of ${field.enum?.typeName}`);
  return value.number;
}

function protoScalarOf(field: DescField, scalar: ScalarType, value: AvroValue): unknown {
  switch (scalar) {
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return BigInt(numberOf(field, value));
    case ScalarType.BYTES:
      if (!(value instanceof Uint8Array)) throw new TypeError(`${field}: expected bytes`);
      return new Uint8Array(value);
    default:
      return value;
  }
}

function stringOf(field: DescField, value: AvroValue): string {
  if (typeof value !== "string") throw new TypeError(`${field}: expected a string`);
  return value;
}

function numberOf(field: DescField, value: AvroValue): number {
  if (typeof value !== "number") throw new TypeError(`${field}: expected a number`);
  return value;
}
