// Our client of a Confluent-compatible schema registry (locally Apicurio Registry 3 under
// /apis/ccompat/v7), with the three calls the service makes: register its schemas at start,
// keep their subjects BACKWARD, and read the schema a record names by id.

export type SchemaType = "AVRO" | "PROTOBUF" | "JSON";

/** An import of a schema: the name it is imported by, and the subject and version holding it. */
export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

export interface RegisteredSchema {
  schemaType: SchemaType;
  schema: string;
  references: SchemaReference[];
}

/** `unknown`: the registry answered that no schema has this id; a record naming it is poison. */
export type SchemaLookup = { kind: "found"; schema: RegisteredSchema } | { kind: "unknown" };

/**
 * The registry could not answer: down, too slow, or answering with an error that is not about
 * the schema asked for. Nothing is known about the record then: retry it, never dead-letter it.
 */
export class SchemaRegistryUnavailableError extends Error {
  override name = "SchemaRegistryUnavailableError";
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The registry answered and refused what we asked: an incompatible or invalid schema. */
export class SchemaRegistryRefusedError extends Error {
  override name = "SchemaRegistryRefusedError";
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode?: number,
  ) {
    super(message);
  }
}

export interface SchemaRegistryClientOptions {
  /** The base URL with its path, as Confluent clients take it (…/apis/ccompat/v7). */
  url: string;
  /** Deadline of one call, in milliseconds. */
  timeoutMs?: number;
}

// Confluent's error code for "schema not found" (a 404 for an unknown subject is 40401).
const SCHEMA_NOT_FOUND = 40403;

export class SchemaRegistryClient {
  readonly #url: string;
  readonly #timeoutMs: number;
  // A schema id never changes its schema, so what was found is kept for the life of the process;
  // concurrent lookups of one id share one call. An unknown id is not kept: it may be registered
  // later, and a flood of poison must not grow memory.
  readonly #byId = new Map<number, Promise<SchemaLookup>>();

  constructor(options: SchemaRegistryClientOptions) {
    this.#url = options.url.replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs ?? 5_000;
  }

  /**
   * Registers the schema under the subject (the registry answers the existing id when it holds
   * it already) and answers its id and the version it has in that subject.
   */
  async register(
    subject: string,
    schema: string,
    schemaType: SchemaType,
    references: SchemaReference[] = [],
  ): Promise<{ id: number; version: number }> {
    const body = { schemaType, schema, references };
    const path = `/subjects/${encodeURIComponent(subject)}`;
    await this.#call<{ id: number }>("POST", `${path}/versions`, body);
    // Registering answers only the id; the version, which references name, comes from a lookup.
    const found = await this.#call<{ id: number; version: number }>("POST", path, body);
    return { id: found.id, version: found.version };
  }

  async setCompatibility(subject: string, compatibility: "BACKWARD"): Promise<void> {
    await this.#call("PUT", `/config/${encodeURIComponent(subject)}`, { compatibility });
  }

  /** Rejects with SchemaRegistryUnavailableError when the registry cannot answer. */
  schemaById(id: number): Promise<SchemaLookup> {
    const cached = this.#byId.get(id);
    if (cached) return cached;
    const lookup = this.#lookup(id);
    this.#byId.set(id, lookup);
    lookup.then(
      (result) => {
        if (result.kind === "unknown") this.#byId.delete(id);
      },
      () => this.#byId.delete(id),
    );
    return lookup;
  }

  async #lookup(id: number): Promise<SchemaLookup> {
    let found: { schema?: unknown; schemaType?: SchemaType; references?: SchemaReference[] } | undefined;
    try {
      found = await this.#call("GET", `/schemas/ids/${id}`);
    } catch (error) {
      if (!(error instanceof SchemaRegistryRefusedError)) throw error;
      if (error.status === 404 && error.errorCode === SCHEMA_NOT_FOUND) return { kind: "unknown" };
      // Any other refusal (401, 403, a 404 of a wrong base URL) is about us, not the record.
      throw new SchemaRegistryUnavailableError(`schema ${id}: ${error.message}`, error.status, {
        cause: error,
      });
    }
    if (typeof found?.schema !== "string") {
      throw new SchemaRegistryUnavailableError(`schema ${id}: the registry's answer holds no schema`);
    }
    return {
      kind: "found",
      schema: {
        // The Confluent API leaves schemaType out for Avro, its first and default type.
        schemaType: found.schemaType ?? "AVRO",
        schema: found.schema,
        references: found.references ?? [],
      },
    };
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.#url}${path}`, {
        method,
        headers: {
          accept: "application/vnd.schemaregistry.v1+json, application/json",
          ...(body === undefined ? {} : { "content-type": "application/vnd.schemaregistry.v1+json" }),
        },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new SchemaRegistryUnavailableError(
        `the schema registry did not answer ${method} ${path}: ${(error as Error).message}`,
        undefined,
        { cause: error },
      );
    }
    if (response.status >= 500) {
      throw new SchemaRegistryUnavailableError(
        `the schema registry answered ${method} ${path} with ${response.status}: ${text.slice(0, 300)}`,
        response.status,
      );
    }
    const parsed = parseJson(text);
    if (!response.ok) {
      const error = parsed as { error_code?: unknown; message?: unknown } | undefined;
      throw new SchemaRegistryRefusedError(
        `${method} ${path}: ${response.status} ${typeof error?.message === "string" ? error.message.slice(0, 300) : text.slice(0, 300)}`,
        response.status,
        typeof error?.error_code === "number" ? error.error_code : undefined,
      );
    }
    return parsed as T;
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
