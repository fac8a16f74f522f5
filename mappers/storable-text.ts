import type { DescField, DescMessage, JsonValue } from "@bufbuild/protobuf";
import type { ErrorProblem } from "../core/errors.ts";

// PostgreSQL cannot store U+0000 in text or jsonb, and jsonb refuses a lone UTF-16
// surrogate; protobuf's binary decoder lets both through. Caught here, for every
// request on every surface, they become a validation error instead of a driver error.
const JSON_TYPES = new Set(["google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"]);

/** Every string of the request, keys of maps and JSON objects included, that could not be stored. */
export function unstorableTextProblems(schema: DescMessage, message: object): ErrorProblem[] {
  const problems: ErrorProblem[] = [];
  walkMessage(schema, message as Record<string, unknown>, [], problems);
  return problems;
}

// The path is the raw segments of where the walk is, pushed and popped: every request on
// every surface is walked, and its pointer is spelled out only for a problem.
type Path = (string | number)[];

function walkMessage(
  schema: DescMessage,
  message: Record<string, unknown>,
  path: Path,
  problems: ErrorProblem[],
) {
  for (const field of schema.fields) {
    const value = fieldValue(message, field);
    if (value === undefined) continue;
    path.push(field.name);
    walkField(field, value, path, problems);
    path.pop();
  }
}

function fieldValue(message: Record<string, unknown>, field: DescField): unknown {
  if (!field.oneof) return message[field.localName];
  const chosen = message[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return chosen?.case === field.localName ? chosen.value : undefined;
}

function walkField(field: DescField, value: unknown, path: Path, problems: ErrorProblem[]): void {
  switch (field.fieldKind) {
    case "scalar":
      checkText(value, path, problems);
      return;
    case "enum":
      return;
    case "message":
      walkMessageValue(field.message, value, path, problems);
      return;
    case "list":
      (value as unknown[]).forEach((item, index) => {
        path.push(index);
        if (field.listKind === "message") walkMessageValue(field.message, item, path, problems);
        else if (field.listKind === "scalar") checkText(item, path, problems);
        path.pop();
      });
      return;
    case "map":
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        path.push(key);
        checkKey(key, path, problems);
        if (field.mapKind === "message") walkMessageValue(field.message, item, path, problems);
        else if (field.mapKind === "scalar") checkText(item, path, problems);
        path.pop();
      }
      return;
  }
}

function walkMessageValue(schema: DescMessage, value: unknown, path: Path, problems: ErrorProblem[]) {
  // protobuf-es holds Struct, Value and ListValue fields as plain JSON, and a REST
  // caller wrote them as JSON: point into them as JSON.
  if (JSON_TYPES.has(schema.typeName)) walkJson(value as JsonValue, path, problems);
  else walkMessage(schema, value as Record<string, unknown>, path, problems);
}

function walkJson(value: JsonValue, path: Path, problems: ErrorProblem[]): void {
  if (typeof value === "string") checkText(value, path, problems);
  else if (Array.isArray(value))
    value.forEach((item, index) => {
      path.push(index);
      walkJson(item, path, problems);
      path.pop();
    });
  else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      path.push(key);
      checkKey(key, path, problems);
      walkJson(item, path, problems);
      path.pop();
    }
  }
}

function checkText(value: unknown, path: Path, problems: ErrorProblem[]): void {
  const reason = typeof value === "string" ? unstorable(value) : undefined;
  if (reason) problems.push({ detail: `${nameOf(path)}: ${reason}`, source: { pointer: pointerOf(path) } });
}

function checkKey(key: string, path: Path, problems: ErrorProblem[]): void {
  const reason = unstorable(key);
  if (reason)
    problems.push({ detail: `${nameOf(path)}: the key ${reason}`, source: { pointer: pointerOf(path) } });
}

function pointerOf(path: Path): string {
  return path.map((segment) => `/${pointerSegment(String(segment))}`).join("");
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

function nameOf(path: Path): string {
  return path.map((segment) => pointerSegment(String(segment))).join(".") || "request";
}
