import type { DescMessage } from "@bufbuild/protobuf";
import type { RestBinding } from "../rest/http-rules.ts";
import type { Link } from "./openapi-types.ts";

// OpenAPI links: what an answer gives that names the resource of another route, so that a
// client (or a stateful test) can go from a created resource to the routes that take it.
// By name, as our protos are written: a path field `template_id` is the `id` of a
// Template or the `template_id` of another message; `version` is a message's `version`.

export interface LinkedOperation {
  binding: RestBinding;
  operationId: string;
}

/** The links of `from`'s 200 answer to every other route whose path fields it all gives. */
export function linksOf(from: LinkedOperation, operations: LinkedOperation[]): Record<string, Link> {
  if (from.binding.responseBody !== "") return {};
  const output = from.binding.rpc.output;
  const links: Record<string, Link> = {};
  for (const to of operations) {
    const pathFields = to.binding.template.boundFields;
    if (to === from || pathFields.length === 0) continue;
    const parameters: Record<string, string> = {};
    for (const name of pathFields) {
      const source = sourceOf(output, name);
      if (source) parameters[name] = `$response.body#/${source}`;
    }
    if (Object.keys(parameters).length < pathFields.length) continue;
    // Only answers about the same resource: a version's answer does not name a device.
    if (!pathFields.some((name) => name === `${snakeName(output)}_id` || isIdOf(output, name))) continue;
    links[to.operationId] = { operationId: to.operationId, parameters };
  }
  return links;
}

/** The field of `message` that holds the value of the path field `name`, if any. */
function sourceOf(message: DescMessage, name: string): string | undefined {
  const scalar = (field: string) => message.fields.some((f) => f.name === field && f.fieldKind === "scalar");
  if (name === `${snakeName(message)}_id` && scalar("id")) return "id";
  return scalar(name) ? name : undefined;
}

/** A message that names its resource by a field such as template_id (TemplateVersion). */
function isIdOf(message: DescMessage, name: string): boolean {
  return name.endsWith("_id") && snakeName(message).startsWith(name.slice(0, -3));
}

/** TemplateVersion → template_version. */
function snakeName(message: DescMessage): string {
  return message.name.replace(/(?<=[a-z0-9])([A-Z])/g, "_$1").toLowerCase();
}
