// The parts of an OpenAPI 3.1 document that we write. Schemas are JSON Schema 2020-12
// objects, kept open because their keywords depend on the field they describe.

export type Schema = { [keyword: string]: unknown };

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  description?: string;
  deprecated?: boolean;
  schema: Schema;
  style?: "form";
  explode?: boolean;
}

export interface MediaContent {
  "application/json": { schema: Schema };
}

export interface RequestBody {
  description?: string;
  required: boolean;
  content: MediaContent;
}

export interface Response {
  description: string;
  headers?: Record<string, { description: string; schema: Schema }>;
  content?: MediaContent;
  links?: Record<string, Link>;
}

/** Another operation that takes values of this answer: parameter name → runtime expression. */
export interface Link {
  operationId: string;
  parameters: Record<string, string>;
}

export type Reference = { $ref: string };

export type SecurityRequirement = Record<string, string[]>;

export interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  parameters: Parameter[];
  requestBody?: RequestBody;
  responses: Record<string, Response | Reference>;
  security: SecurityRequirement[];
  /** The RPC the route calls, as Connect and gRPC clients name it. */
  "x-rpc": string;
  /** Roles allowed to call it, as in the JWT's "roles" claim. */
  "x-roles"?: string[];
  /** For the user role: the request field that must be the caller's own user id. */
  "x-owner-field"?: string;
}

export interface SecurityScheme {
  type: "http" | "apiKey";
  description: string;
  scheme?: string;
  bearerFormat?: string;
  in?: "header";
  name?: string;
}

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  servers?: { url: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, Schema>;
    responses: Record<string, Response>;
    securitySchemes: Record<string, SecurityScheme>;
  };
}
