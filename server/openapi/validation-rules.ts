import { type DescEnum, type DescField, getOption, hasOption } from "@bufbuild/protobuf";
import { isReflectList, type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import {
  type FieldRules,
  FieldRulesSchema,
  field as fieldRules,
  Ignore,
} from "../../gen/buf/validate/validate_pb.ts";
import type { Schema } from "./openapi-types.ts";

// protovalidate rules as JSON Schema, where JSON Schema has a keyword that means the same;
// the others (CEL, prefixes, timestamps relative to now…) stay in the proto only.

const STRING_FORMATS: Record<string, string> = {
  email: "email",
  hostname: "hostname",
  ipv4: "ipv4",
  ipv6: "ipv6",
  uri: "uri",
  uri_ref: "uri-reference",
  uuid: "uuid",
};
const SIXTY_FOUR_BIT = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);
const NUMBERS = new Set([
  ...SIXTY_FOUR_BIT,
  "int32",
  "uint32",
  "sint32",
  "fixed32",
  "sfixed32",
  "float",
  "double",
]);
const VALUE_KINDS = new Set([...NUMBERS, "string", "bool", "enum"]);
const TYPE_RULES = FieldRulesSchema.oneofs.find((oneof) => oneof.name === "type");

/** The field's rules, or undefined when it has none or they are switched off. */
export function rulesOf(field: DescField): FieldRules | undefined {
  if (!hasOption(field, fieldRules)) return undefined;
  const rules = getOption(field, fieldRules);
  return rules.ignore === Ignore.ALWAYS ? undefined : rules;
}

/**
 * Whether the server refuses the field when a JSON body leaves it out, which decodes to
 * its zero value: it is `required`, or its rules ask for at least one item, pair or
 * character, and zero values are not exempted (IGNORE_IF_ZERO_VALUE).
 */
export function mustBeSent(field: DescField): boolean {
  const rules = rulesOf(field);
  if (!rules) return false;
  if (rules.required) return true;
  if (rules.ignore === Ignore.IF_ZERO_VALUE || field.oneof !== undefined) return false;
  const kind = rules.type.case;
  if (kind !== "repeated" && kind !== "map" && kind !== "string" && kind !== "bytes") return false;
  const read = readerOf(rules);
  const least = {
    repeated: ["min_items"],
    map: ["min_pairs"],
    string: ["min_len", "len"],
    bytes: ["min_len", "len"],
  };
  return least[kind].some((rule) => Number(read(rule) ?? 0) >= 1);
}

/**
 * Keywords for a single value: a scalar, an enum (named by `enumType`), or one item, key or
 * value of a repeated or map field.
 */
export function valueKeywords(rules: FieldRules | undefined, enumType?: DescEnum): Schema {
  if (enumType) return enumKeywords(rules, enumType);
  const kind = rules?.type.case;
  if (!rules || !kind || !VALUE_KINDS.has(kind)) return {};
  const read = readerOf(rules);
  const asJson = (value: unknown): unknown => (SIXTY_FOUR_BIT.has(kind) ? String(value) : value);
  const out: Schema = {};
  const constant = read("const");
  if (constant !== undefined) out.const = asJson(constant);
  const allowed = read("in");
  if (Array.isArray(allowed)) out.enum = allowed.map(asJson);
  const denied = read("not_in");
  if (Array.isArray(denied)) out.not = { enum: denied.map(asJson) };
  const examples = read("example");
  if (Array.isArray(examples)) out.examples = examples.map(asJson);
  if (kind === "string") Object.assign(out, stringKeywords(read));
  if (NUMBERS.has(kind)) Object.assign(out, boundKeywords(read));
  // A 64-bit integer is a string in proto JSON, which minimum does not constrain: say
  // "no minus sign" in its pattern when the rules refuse negative numbers.
  if (SIXTY_FOUR_BIT.has(kind) && Number(out.minimum ?? out.exclusiveMinimum ?? -1) >= 0) {
    out.pattern = "^[0-9]+$";
    if (kind !== "uint64" && kind !== "fixed64") out.maxLength = 19;
  }
  return out;
}

/**
 * An enum's values that the rules let through, as the list of their names beside the
 * enum's reference: `const`, `in` and `not_in` pick among the defined values, and
 * `required` refuses the zero value (`*_UNSPECIFIED`). `defined_only` adds nothing, since
 * the enum's component names only defined values. Nothing when every value passes.
 */
function enumKeywords(rules: FieldRules | undefined, enumType: DescEnum): Schema {
  const read = rules?.type.case === "enum" ? readerOf(rules) : () => undefined;
  const numbers = (rule: string): number[] | undefined => {
    const value = read(rule);
    if (value === undefined) return undefined;
    return (Array.isArray(value) ? value : [value]).map(Number);
  };
  const only = numbers("const") ?? numbers("in");
  const denied = new Set(numbers("not_in") ?? []);
  if (rules?.required) denied.add(0);
  const allowed = enumType.values.filter(
    (value) => (!only || only.includes(value.number)) && !denied.has(value.number),
  );
  const out: Schema = {};
  if (allowed.length < enumType.values.length) out.enum = allowed.map((value) => value.name);
  const examples = numbers("example");
  if (examples) {
    out.examples = examples.map((n) => enumType.values.find((value) => value.number === n)?.name ?? n);
  }
  return out;
}

/**
 * What `required` means for a field without presence: its zero value is refused. Enums
 * are handled with their values (see enumKeywords), messages by the `required` list of
 * the object that holds them.
 */
export function requiredKeywords(rules: FieldRules | undefined, field: DescField, schema: Schema): Schema {
  if (!rules?.required) return {};
  const atLeastOne = (keyword: string): Schema => ({
    [keyword]: Math.max(typeof schema[keyword] === "number" ? schema[keyword] : 0, 1),
  });
  switch (field.fieldKind) {
    case "list":
      return atLeastOne("minItems");
    case "map":
      return atLeastOne("minProperties");
    case "scalar":
      if (schema.type === "string" && schema.format !== "int64" && schema.format !== "uint64") {
        return atLeastOne("minLength");
      }
      if (schema.type === "boolean") return { const: true };
      if (schema.type === "string") return { not: { pattern: "^-?0+$" } };
      return { not: { const: 0 } };
    default:
      return {};
  }
}

export function repeatedKeywords(rules: FieldRules | undefined): Schema {
  if (rules?.type.case !== "repeated") return {};
  const read = readerOf(rules);
  const out = counts(read, { min_items: "minItems", max_items: "maxItems" });
  if (read("unique") === true) out.uniqueItems = true;
  return out;
}

export function mapKeywords(rules: FieldRules | undefined): Schema {
  if (rules?.type.case !== "map") return {};
  return counts(readerOf(rules), { min_pairs: "minProperties", max_pairs: "maxProperties" });
}

/** Rules that JSON Schema cannot say but a caller must know, as sentences for the description. */
export function ruleNotes(rules: FieldRules | undefined): string[] {
  if (rules?.type.case !== "timestamp") return [];
  const read = readerOf(rules);
  const notes: string[] = [];
  if (read("gt_now") === true) notes.push("Must be later than the time the request arrives.");
  if (read("lt_now") === true) notes.push("Must be earlier than the time the request arrives.");
  return notes;
}

type Reader = (rule: string) => unknown;

function counts(read: Reader, keywordOf: Record<string, string>): Schema {
  const out: Schema = {};
  for (const [rule, keyword] of Object.entries(keywordOf)) {
    const value = read(rule);
    if (value !== undefined) out[keyword] = Number(value);
  }
  return out;
}

function stringKeywords(read: Reader): Schema {
  const exact = read("len");
  const out: Schema =
    exact === undefined
      ? counts(read, { min_len: "minLength", max_len: "maxLength" })
      : { minLength: Number(exact), maxLength: Number(exact) };
  const pattern = read("pattern");
  if (pattern !== undefined) out.pattern = pattern;
  for (const [rule, format] of Object.entries(STRING_FORMATS)) {
    if (read(rule) === true) out.format = format;
  }
  return out;
}

function boundKeywords(read: Reader): Schema {
  const [gt, gte, lt, lte] = ["gt", "gte", "lt", "lte"].map((name) => {
    const value = read(name);
    return value === undefined ? undefined : Number(value);
  });
  const lower = gt ?? gte;
  const upper = lt ?? lte;
  // A lower bound above the upper one means "outside the range", which these keywords cannot say.
  if (lower !== undefined && upper !== undefined && lower > upper) return {};
  const out: Schema = {};
  if (gt !== undefined) out.exclusiveMinimum = gt;
  if (gte !== undefined) out.minimum = gte;
  if (lt !== undefined) out.exclusiveMaximum = lt;
  if (lte !== undefined) out.maximum = lte;
  return out;
}

/**
 * Reads the rules of the field's type (StringRules, Int32Rules…) by proto name, giving
 * undefined for a rule that is not set: rules are proto2, and an unset limit is no zero limit.
 */
function readerOf(rules: FieldRules): Reader {
  const message = reflect(FieldRulesSchema, rules);
  const field = TYPE_RULES && message.oneofCase(TYPE_RULES);
  if (field?.fieldKind !== "message") return () => undefined;
  const typed: ReflectMessage = message.get(field);
  return (rule) => {
    const ruleField = typed.desc.fields.find((candidate) => candidate.name === rule);
    if (!ruleField || !typed.isSet(ruleField)) return undefined;
    const value = typed.get(ruleField);
    return isReflectList(value) ? [...value] : value;
  };
}
