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
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
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
      return messageValueOf(item as ReflectMessage);
    case "enum":
      return enumSymbolOf(field, item as number);
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
        for (const item of value as AvroValue[]) list.add(protoItemOf(field, item));
        break;
      }
      case "message":
        message.set(field, protoMessageOf(field.message, value));
        break;
      case "enum":
        message.set(field, enumNumberOf(field, value as string));
        break;
      case "scalar":
        message.set(field, protoScalarOf(field.scalar, value));
        break;
      case "map":
        throw new Error(`${field}: maps have no Avro mapping yet`);
    }
  }
}

function protoItemOf(field: DescField & { fieldKind: "list" }, item: AvroValue): unknown {
  switch (field.listKind) {
    case "message":
      return protoMessageOf(field.message, item);
    case "enum":
      return enumNumberOf(field, item as string);
    case "scalar":
      return protoScalarOf(field.scalar, item);
  }
}

function protoMessageOf(desc: DescMessage, value: AvroValue): ReflectMessage {
  if (desc.typeName === TimestampSchema.typeName)
    return reflect(TimestampSchema, timestampOf(value as number));
  if (desc.typeName === StructSchema.typeName) {
    return reflect(StructSchema, fromJson(StructSchema, JSON.parse(value as string)));
  }
  const message = reflect(desc);
  fill(message, value as AvroRecordValue);
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

function protoScalarOf(scalar: ScalarType, value: AvroValue): unknown {
  switch (scalar) {
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return BigInt(value as number);
    case ScalarType.BYTES:
      return new Uint8Array(value as Buffer);
    default:
      return value;
  }
}
