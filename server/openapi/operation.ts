import type { DescField, DescMessage } from "@bufbuild/protobuf";
import type { RestBinding } from "../rest/http-rules.ts";
import { accessOf } from "./access.ts";
import { errorResponsesOf } from "./error-responses.ts";
import type { Operation, Parameter, RequestBody, Schema } from "./openapi-types.ts";
import type { ProtoComments } from "./proto-comments.ts";
import { isQueryForm, isWellKnown, type SchemaCatalog } from "./schemas.ts";
import { mustBeSent } from "./validation-rules.ts";

type Segment = RestBinding["template"]["segments"][number];

/** The OpenAPI path of a google.api.http template: `{name=shelves/*}` becomes `{name}`, verbs stay. */
export function openApiPath(binding: RestBinding): string {
  const { segments, verb } = binding.template;
  return `/${segments.map(segmentText).join("/")}${verb ? `:${verb}` : ""}`;
}

function segmentText(segment: Segment): string {
  return segment.kind === "variable" ? `{${segment.variable.fieldPath.join(".")}}` : partText(segment);
}

function partText(part: Exclude<Segment, { kind: "variable" }>): string {
  if (part.kind === "literal") return part.value;
  return part.kind === "any" ? "*" : "**";
}

export function operationOf(
  binding: RestBinding,
  operationId: string,
  schemas: SchemaCatalog,
  comments: ProtoComments,
): Operation {
  const { rpc } = binding;
  const access = accessOf(rpc);
  const bound = new Set(binding.template.boundFields);
  const description = comments.get(`${rpc.parent.typeName}.${rpc.name}`);
  const requestBody = requestBodyOf(binding, schemas, comments);
  const queried = binding.body === "*" ? [] : queryParameters(rpc.input, schemas, bound, binding.body);
  return {
    operationId,
    tags: [rpc.parent.name],
    summary: rpc.name,
    ...(description ? { description } : {}),
    parameters: [...pathParameters(binding, schemas), ...queried, ...revisionHeaders(rpc.input)],
    ...(requestBody ? { requestBody } : {}),
    responses: {
      "200": {
        description: comments.get(rpc.output.typeName) ?? rpc.output.name,
        ...(binding.responseBody === "" && hasField(rpc.output, "revision") ? { headers: ETAG_HEADER } : {}),
        content: { "application/json": { schema: responseSchema(binding, schemas) } },
      },
      ...errorResponsesOf(binding, access.security.length === 0),
    },
    ...access,
    "x-rpc": `${rpc.parent.typeName}/${rpc.name}`,
  };
}

// The transcoder's optimistic concurrency (server/rest/transcoder.ts): If-Match sets
// expected_revision, and an answer's revision comes back as its ETag.
const ETAG_HEADER = {
  ETag: {
    description: "The resource's revision; send it back as If-Match to update it safely.",
    schema: { type: "string", pattern: '^"[0-9]+"$' },
  },
};
// What the transcoder takes as If-Match (revisionOfETag): a revision, quoted or not, weak or
// not, of at most 19 digits, as an int64 has.
const IF_MATCH_PATTERN = '^(W/)?"?[0-9]{1,19}"?$';

function revisionHeaders(input: DescMessage): Parameter[] {
  if (!hasField(input, "expected_revision")) return [];
  return [
    {
      name: "If-Match",
      in: "header",
      required: false,
      description:
        "The ETag of the revision this change is based on (sets expected_revision); a stale one answers 412 STALE_REVISION.",
      schema: { type: "string", pattern: IF_MATCH_PATTERN, examples: ['"3"'] },
    },
  ];
}

function hasField(message: DescMessage, name: string): boolean {
  return message.fields.some((field) => field.name === name);
}

function pathParameters(binding: RestBinding, schemas: SchemaCatalog): Parameter[] {
  return binding.template.segments.flatMap((segment) => {
    if (segment.kind !== "variable") return [];
    const { fieldPath, parts } = segment.variable;
    const parameter = parameterOf(
      fieldPath.join("."),
      "path",
      fieldAt(binding.rpc.input, fieldPath),
      schemas,
    );
    if (parts.length > 1 || parts[0]?.kind !== "any") {
      const note = `Matches \`${parts.map(partText).join("/")}\`, with its slashes unescaped.`;
      parameter.description = [parameter.description, note].filter(Boolean).join("\n\n");
    }
    return [parameter];
  });
}

function parameterOf(
  name: string,
  where: "path" | "query",
  field: DescField,
  schemas: SchemaCatalog,
): Parameter {
  const { description, deprecated, ...schema } = schemas.fieldSchema(field);
  const enumDesc =
    field.fieldKind === "enum" ? field.enum : field.fieldKind === "list" ? field.enum : undefined;
  const lenient =
    where === "query" && enumDesc?.sharedPrefix
      ? `Also accepted in any case and without the \`${enumDesc.sharedPrefix.toUpperCase()}\` prefix.`
      : undefined;
  const text = [typeof description === "string" ? description : undefined, lenient]
    .filter(Boolean)
    .join("\n\n");
  return {
    name,
    in: where,
    required: where === "path" || mustBeSent(field),
    ...(text ? { description: text } : {}),
    ...(deprecated === true ? { deprecated: true } : {}),
    schema,
    ...(field.fieldKind === "list" ? { style: "form" as const, explode: true } : {}),
  };
}

/**
 * Every field the path and the body leave, as the transcoder reads it from the query:
 * nested message fields by dotted name, repeated scalars as repeated parameters.
 */
function queryParameters(
  message: DescMessage,
  schemas: SchemaCatalog,
  bound: ReadonlySet<string>,
  bodyField: string,
  prefix = "",
  outer: ReadonlySet<DescMessage> = new Set([message]),
): Parameter[] {
  return message.fields.flatMap((field): Parameter[] => {
    const name = `${prefix}${field.name}`;
    if (bound.has(name) || name === bodyField || field.fieldKind === "map") return [];
    if (field.fieldKind === "list" && field.listKind === "message") return [];
    if (field.fieldKind === "message" && !isQueryForm(field.message)) {
      if (isWellKnown(field.message) || outer.has(field.message)) return [];
      const inner = new Set([...outer, field.message]);
      return queryParameters(field.message, schemas, bound, bodyField, `${name}.`, inner);
    }
    return [parameterOf(name, "query", field, schemas)];
  });
}

function requestBodyOf(
  binding: RestBinding,
  schemas: SchemaCatalog,
  comments: ProtoComments,
): RequestBody | undefined {
  const input = binding.rpc.input;
  if (binding.body === "") return undefined;
  if (binding.body === "*") {
    // Fields the path sets are left out of the body; with none, the message's own component.
    const topLevel = new Set(binding.template.boundFields.filter((name) => !name.includes(".")));
    const schema = topLevel.size > 0 ? schemas.messageSchema(input, topLevel) : schemas.typeSchema(input);
    const description = comments.get(input.typeName);
    // No body decodes as {}: it is refused when a field that must be sent is in the body.
    const required = input.fields.some((field) => !topLevel.has(field.name) && mustBeSent(field));
    return {
      ...(description ? { description } : {}),
      required,
      content: { "application/json": { schema } },
    };
  }
  const field = fieldAt(input, [binding.body]);
  const schema = schemas.fieldSchema(field);
  const description = typeof schema.description === "string" ? schema.description : undefined;
  return {
    ...(description ? { description } : {}),
    required: mustBeSent(field),
    content: { "application/json": { schema } },
  };
}

function responseSchema(binding: RestBinding, schemas: SchemaCatalog): Schema {
  const { output } = binding.rpc;
  if (binding.responseBody === "") return schemas.typeSchema(output);
  return schemas.fieldSchema(fieldAt(output, [binding.responseBody]));
}

function fieldAt(message: DescMessage, path: readonly string[]): DescField {
  const [name, ...rest] = path;
  const field = message.fields.find((candidate) => candidate.name === name);
  if (!field) throw new Error(`${message.typeName} has no field "${name}"`);
  if (rest.length === 0) return field;
  if (field.fieldKind !== "message") throw new Error(`${message.typeName}.${name} is not a message`);
  return fieldAt(field.message, rest);
}
