import type { DescField, DescMessage, JsonValue } from "@bufbuild/protobuf";
import type { ErrorProblem } from "../core/errors.ts";

// PostgreSQL cannot store U+0000 in text or jsonb, and jsonb refuses a lone UTF-16
// surrogate; protobuf's binary decoder lets both through. Caught here, for every
// request on every surface, they become a validation error instead of a driver error.
const JSON_TYPES = new Set(["google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"]);

/** Every string of the request, keys of maps and JSON objects included, that could not be stored. */
export function unstorableTextProblems(schema: DescMessage, message: object): ErrorProblem[] {
  const problems: ErrorProblem[] = [];
  walkMessage(schema, message as Record<string, unknown>, "", problems);
  return problems;
}

function walkMessage(
  schema: DescMessage,
  message: Record<string, unknown>,
  pointer: string,
  problems: ErrorProblem[],
): void {
  for (const field of schema.fields) {
    const value = fieldValue(message, field);
    if (value === undefined) continue;
    walkField(field, value, `${pointer}/${pointerSegment(field.name)}`, problems);
  }
}

function fieldValue(message: Record<string, unknown>, field: DescField): unknown {
  if (!field.oneof) return message[field.localName];
  const chosen = message[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return chosen?.case === field.localName ? chosen.value : undefined;
}

function walkField(field: DescField, value: unknown, pointer: string, problems: ErrorProblem[]): void {
  switch (field.fieldKind) {
    case "scalar":
      checkText(value, pointer, problems);
      return;
    case "enum":
      return;
    case "message":
      walkMessageValue(field.message, value, pointer, problems);
      return;
    case "list":
      (value as unknown[]).forEach((item, index) => {
        const here = `${pointer}/${index}`;
        if (field.listKind === "message") walkMessageValue(field.message, item, here, problems);
        else if (field.listKind === "scalar") checkText(item, here, problems);
      });
      return;
    case "map":
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        const here = `${pointer}/${pointerSegment(key)}`;
        checkKey(key, here, problems);
        if (field.mapKind === "message") walkMessageValue(field.message, item, here, problems);
        else if (field.mapKind === "scalar") checkText(item, here, problems);
      }
      return;
  }
}

function walkMessageValue(schema: DescMessage, value: unknown, pointer: string, problems: ErrorProblem[]) {
  // protobuf-es holds Struct, Value and ListValue fields as plain JSON, and a REST
  // caller wrote them as JSON: point into them as JSON.
  if (JSON_TYPES.has(schema.typeName)) walkJson(value as JsonValue, pointer, problems);
  else walkMessage(schema, value as Record<string, unknown>, pointer, problems);
}

function walkJson(value: JsonValue, pointer: string, problems: ErrorProblem[]): void {
  if (typeof value === "string") checkText(value, pointer, problems);
  else if (Array.isArray(value))
    value.forEach((item, index) => {
      walkJson(item, `${pointer}/${index}`, problems);
    });
  else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const here = `${pointer}/${pointerSegment(key)}`;
      checkKey(key, here, problems);
      walkJson(item, here, problems);
    }
  }
}

function checkText(value: unknown, pointer: string, problems: ErrorProblem[]): void {
  const reason = typeof value === "string" ? unstorable(value) : undefined;
  if (reason) problems.push({ detail: `${nameOf(pointer)}: ${reason}`, source: { pointer } });
}

function checkKey(key: string, pointer: string, problems: ErrorProblem[]): void {
  const reason = unstorable(key);
  if (reason) problems.push({ detail: `${nameOf(pointer)}: the key ${reason}`, source: { pointer } });
}

function unstorable(text: string): string | undefined {
  if (text.includes("\u0000")) return "must not contain the NUL character (U+0000)";
  if (!text.isWellFormed()) return "must be well-formed Unicode (it has an unpaired surrogate)";
  return undefined;
}

/** A JSON pointer segment (RFC 6901): `~` and `/` escaped. */
export function pointerSegment(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

function nameOf(pointer: string): string {
  return pointer.slice(1).replaceAll("/", ".") || "request";
}
