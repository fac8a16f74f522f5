import type { DescService } from "@bufbuild/protobuf";
import { restBindingsOf } from "../rest/http-rules.ts";
import { SECURITY_SCHEMES } from "./access.ts";
import { errorBodySchema, errorResponses } from "./error-responses.ts";
import { type LinkedOperation, linksOf } from "./links.ts";
import type { OpenApiDocument, Operation } from "./openapi-types.ts";
import { openApiPath, operationOf } from "./operation.ts";
import type { ProtoComments } from "./proto-comments.ts";
import { SchemaCatalog } from "./schemas.ts";

export interface OpenApiOptions {
  title: string;
  version: string;
  serverUrl?: string;
  /** Comments of the .proto files (see proto-comments.ts); without them the document has no prose. */
  comments?: ProtoComments;
}

// What holds for every route, so that no route has to say it.
const CONVENTIONS = `REST routes of the notification service, transcoded from its RPC methods (google.api.http).

- Bodies and answers are the proto3 JSON mapping with the proto (snake_case) field names.
  A body may also use the lowerCamelCase JSON names; a field the message does not have is refused.
- Answers carry every field, with its default value when it is not set.
- 64-bit integers are strings; enums are their value names; timestamps are RFC 3339 strings.
- Fields not in the path or the body are query parameters; a nested field is named with dots (\`a.b\`).
- Every error answer has the same body, \`ErrorBody\`.`;

/** The OpenAPI 3.1 document of the REST surface of `services`, built from their descriptors alone. */
export function openApiDocument(services: DescService[], options: OpenApiOptions): OpenApiDocument {
  const comments = options.comments ?? new Map<string, string>();
  const schemas = new SchemaCatalog(comments);
  const paths: Record<string, Record<string, Operation>> = {};
  const bindingsSeen = new Map<string, number>();
  const bindings = restBindingsOf(services);
  const built: (LinkedOperation & { operation: Operation })[] = [];
  for (const binding of bindings) {
    const method = binding.httpMethod.toLowerCase();
    const path = openApiPath(binding);
    const rpcName = `${binding.rpc.parent.name}_${binding.rpc.name}`;
    const nth = (bindingsSeen.get(rpcName) ?? 0) + 1;
    bindingsSeen.set(rpcName, nth);
    const item = paths[path] ?? {};
    paths[path] = item;
    if (item[method]) throw new Error(`two google.api.http rules bind ${binding.httpMethod} ${path}`);
    const operation = operationOf(binding, nth === 1 ? rpcName : `${rpcName}_${nth}`, schemas, comments);
    item[method] = operation;
    built.push({ binding, operationId: operation.operationId, operation });
  }
  for (const from of built) {
    const links = linksOf(from, built);
    const ok = from.operation.responses["200"];
    if (ok && !("$ref" in ok) && Object.keys(links).length > 0) ok.links = links;
  }
  return {
    openapi: "3.1.0",
    info: { title: options.title, version: options.version, description: CONVENTIONS },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    tags: services
      .filter((service) => bindings.some((binding) => binding.rpc.parent === service))
      .map((service) => {
        const description = comments.get(service.typeName);
        return { name: service.name, ...(description ? { description } : {}) };
      }),
    paths,
    components: {
      schemas: sortedByKey({ ...schemas.components, ErrorBody: errorBodySchema(comments) }),
      responses: errorResponses(),
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

function sortedByKey<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
