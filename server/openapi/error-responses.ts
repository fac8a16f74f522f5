import type { RestBinding } from "../rest/http-rules.ts";
import type { Reference, Response, Schema } from "./openapi-types.ts";
import type { ProtoComments } from "./proto-comments.ts";

// The REST error body of the platform's API standard (RestErrorBody in server/api/error-mapping.ts).
// Its items carry what ErrorDetail carries on the RPC surfaces, so they share its comments.
const ERROR_DETAIL = "platform.notification.v1.ErrorDetail";

export function errorBodySchema(comments: ProtoComments): Schema {
  const documented = (field: string): Schema => {
    const description = comments.get(`${ERROR_DETAIL}.${field}`);
    return { type: "string", ...(description ? { description } : {}) };
  };
  return {
    type: "object",
    description: "Every error answer of the REST surface: one item per problem found.",
    required: ["errors"],
    properties: {
      errors: {
        type: "array",
        minItems: 1,
        items: {
          type: "object",
          required: ["code", "title", "detail"],
          properties: {
            code: documented("code"),
            title: documented("title"),
            detail: documented("detail"),
            source: {
              type: "object",
              description: "Where in the request the problem is.",
              properties: { pointer: documented("pointer"), parameter: documented("parameter") },
            },
          },
        },
      },
    },
  };
}

const ERROR_RESPONSES = {
  400: ["BadRequest", "The request is invalid: a parameter, the body or a validation rule."],
  401: ["Unauthorized", "No valid credentials: a JWT or an API key is needed."],
  403: ["Forbidden", "The caller's roles do not allow this, or the data is not the caller's own."],
  404: [
    "NotFound",
    "What the request names (in its path, the health check's service, or a send's template) does not exist.",
  ],
  409: ["Conflict", "The resource already exists, or it changed meanwhile."],
  412: [
    "PreconditionFailed",
    "The expected revision is not the current one, or the resource's state forbids it.",
  ],
  413: ["PayloadTooLarge", "The body is larger than the service accepts."],
  415: ["UnsupportedMediaType", "The body is not application/json."],
  429: ["TooManyRequests", "Too many requests; retry after the time in Retry-After."],
  500: ["InternalError", "The service failed; the error is logged."],
  503: ["Unavailable", "A dependency of the service is unavailable; retry later."],
} as const satisfies Record<number, readonly [string, string]>;

type ErrorStatus = keyof typeof ERROR_RESPONSES;

/** The shared error responses, for components/responses. */
export function errorResponses(): Record<string, Response> {
  return Object.fromEntries(
    Object.values(ERROR_RESPONSES).map(([name, description]) => [
      name,
      {
        description,
        content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } },
      },
    ]),
  );
}

// Errors a method answers for what its request names outside the path, which neither its
// route nor its proto options tell: a protocol's rule, or a resource named in the body.
const METHOD_ERRORS: Record<string, ErrorStatus[]> = {
  // The gRPC health checking protocol: Check answers NOT_FOUND for a service it does not know.
  "grpc.health.v1.Health.Check": [404],
  // A send names its template by name in the body.
  "platform.notification.v1.SendService.SendDirect": [404],
  "platform.notification.v1.SendService.SendBulk": [404],
  // A campaign names its templates in the body.
  "platform.notification.v1.CampaignService.CreateCampaign": [404],
};

/**
 * The errors a route can answer, by what it does: reads by path, writes, takes a body,
 * needs credentials; and those of what it names elsewhere (METHOD_ERRORS).
 */
export function errorResponsesOf(binding: RestBinding, isPublic: boolean): Record<string, Reference> {
  const statuses = new Set<ErrorStatus>([400]);
  const add = (...more: ErrorStatus[]) => {
    for (const status of more) statuses.add(status);
  };
  if (!isPublic) add(401, 403);
  if (binding.template.boundFields.length > 0) add(404);
  if (binding.httpMethod !== "GET") add(409, 412);
  if (binding.body !== "") add(413, 415);
  add(429, 500, 503);
  add(...(METHOD_ERRORS[`${binding.rpc.parent.typeName}.${binding.rpc.name}`] ?? []));
  return Object.fromEntries(
    [...statuses]
      .sort((a, b) => a - b)
      .map((status) => [String(status), { $ref: `#/components/responses/${ERROR_RESPONSES[status][0]}` }]),
  );
}
