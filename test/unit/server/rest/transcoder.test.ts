import { createServer, type Server } from "node:http";
import { create } from "@bufbuild/protobuf";
import { createContextValues, createServiceImplSpec, type ServiceImpl } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EchoRequestSchema,
  EchoResponseSchema,
  TranscodingTestService,
} from "../../../../gen/notification/testing/v1/transcoding_pb.ts";
import { errorMappingInterceptor } from "../../../../server/api/error-mapping.ts";
import { createLogger } from "../../../../server/logger.ts";
import { restBindingsOf } from "../../../../server/rest/http-rules.ts";
import { createRestTranscoder } from "../../../../server/rest/transcoder.ts";

// A real HTTP server in front of the transcoder and a Connect router whose one method
// answers with the request it received, so each test sees exactly how REST mapped.
let server: Server;
let base: string;

beforeAll(async () => {
  const implementation: ServiceImpl<typeof TranscodingTestService> = {
    echo: (request) => create(EchoResponseSchema, { received: request, revision: 7n }),
    echoReceived: (request) =>
      create(EchoResponseSchema, {
        received: create(EchoRequestSchema, { name: request.name }),
        revision: 1n,
      }),
  };
  const serveRest = createRestTranscoder({
    bindings: restBindingsOf([TranscodingTestService]),
    methods: Object.values(
      createServiceImplSpec<typeof TranscodingTestService>(TranscodingTestService, implementation).methods,
    ),
    interceptors: [errorMappingInterceptor(createLogger("silent"))],
    requestMaxBytes: 1024,
    contextValues: () => createContextValues(),
  });
  server = createServer((request, response) => void serveRest(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/api/v1/notifications/test`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

describe("REST transcoding of google.api.http rules", () => {
  it("binds nested path variables and types every kind of query parameter", async () => {
    const query =
      "flag=true&count=3&big=9007199254740993&ratio=0.5&color=green&tags=a&tags=b&colors=red&colors=COLOR_GREEN" +
      "&nested.label=x&nested.level=2&at=2026-01-01T00:00:00Z&shelf.theme=sci-fi";
    const { status, headers, body } = await call(`/shelves/s%201/books/b2?${query}`);
    expect(status).toBe(200);
    expect(headers.get("etag")).toBe('"7"');
    expect(body.revision).toBe("7");
    expect(body.received).toMatchObject({
      shelf: { id: "s 1", theme: "sci-fi" },
      book_id: "b2",
      flag: true,
      count: 3,
      big: "9007199254740993",
      ratio: 0.5,
      color: "COLOR_GREEN",
      tags: ["a", "b"],
      colors: ["COLOR_RED", "COLOR_GREEN"],
      nested: { label: "x", level: 2 },
      at: "2026-01-01T00:00:00Z",
    });
  });

  it("answers with proto (snake_case) names and every implicit field", async () => {
    const { body } = await call("/shelves/s1/books/b1");
    expect(Object.keys(body.received)).toEqual(
      expect.arrayContaining(["book_id", "flag", "count", "tags", "expected_revision"]),
    );
    expect(body.received.flag).toBe(false);
  });

  it('fills one field from the body with body: "book"', async () => {
    const { status, body } = await call("/shelves/s1/books", json("POST", { title: "Дюна", pages: 412 }));
    expect(status).toBe(200);
    expect(body.received).toMatchObject({ shelf: { id: "s1" }, book: { title: "Дюна", pages: 412 } });
  });

  it('takes the whole request from the body with body: "*", in proto or camelCase names', async () => {
    const { status, body } = await call(
      "/echo/items/i-9",
      json("PUT", { bookId: "b-1", expected_revision: "4", nested: { label: "L" } }),
    );
    expect(status).toBe(200);
    expect(body.received).toMatchObject({
      name: "items/i-9",
      book_id: "b-1",
      expected_revision: "4",
      nested: { label: "L" },
    });
  });

  it("binds a ** variable to the rest of the path", async () => {
    const { body } = await call("/files/docs/2026/report%20final.txt");
    expect(body.received.path).toBe("docs/2026/report final.txt");
  });

  it("routes custom verbs by method, and not without the verb", async () => {
    expect((await call("/shelves/s1:archive", json("POST", {}))).body.received.shelf.id).toBe("s1");
    expect((await call("/shelves/s2:archive")).body.received.shelf.id).toBe("s2");
    expect((await call("/shelves/s1")).status).toBe(404);
  });

  it("answers only the response_body field when the rule names one", async () => {
    const { body } = await call("/received/n1");
    expect(body.name).toBe("n1");
    expect(body.revision).toBeUndefined();
  });

  it("maps If-Match to expected_revision, and refuses one it did not give", async () => {
    const { body } = await call("/echo/items/x", json("PUT", {}, { "if-match": 'W/"12"' }));
    expect(body.received.expected_revision).toBe("12");
    const bad = await call("/echo/items/x", json("PUT", {}, { "if-match": "*" }));
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].source).toEqual({ parameter: "If-Match" });
  });
});

describe("REST errors, in the specification's body", () => {
  const firstError = (body: { errors: { code: string; source?: unknown }[] }) =>
    body.errors[0] ?? { code: "NO_ERROR", source: undefined };

  it("404 for an unknown route", async () => {
    const { status, body } = await call("/nowhere/at/all");
    expect(status).toBe(404);
    expect(firstError(body)).toMatchObject({ code: "ROUTE_NOT_FOUND", title: "Маршрут не найден" });
  });

  it("405 with Allow for a known path and a wrong method", async () => {
    const { status, headers, body } = await call("/shelves/s1/books", { method: "DELETE" });
    expect(status).toBe(405);
    expect(headers.get("allow")).toBe("POST");
    expect(firstError(body).code).toBe("METHOD_NOT_ALLOWED");
  });

  it("415 for a body that is not JSON", async () => {
    const { status, body } = await call("/shelves/s1/books", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "title=x",
    });
    expect(status).toBe(415);
    expect(firstError(body).code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("413 for a body over the limit", async () => {
    const { status, body } = await call("/shelves/s1/books", json("POST", { title: "x".repeat(2000) }));
    expect(status).toBe(413);
    expect(firstError(body).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("400 for malformed JSON", async () => {
    const { status, body } = await call("/shelves/s1/books", json("POST", '{"title": '));
    expect(status).toBe(400);
    expect(firstError(body).code).toBe("MALFORMED_REQUEST_BODY");
  });

  it("400 with a pointer for a body field of the wrong type or unknown", async () => {
    const wrongType = await call("/echo/items/x", json("PUT", { nested: { level: "high" } }));
    expect(wrongType.status).toBe(400);
    expect(firstError(wrongType.body)).toMatchObject({
      code: "VALIDATION_ERROR",
      source: { pointer: "/nested/level" },
    });
    const unknown = await call("/echo/items/x", json("PUT", { colour: "red" }));
    expect(firstError(unknown.body)).toMatchObject({
      code: "VALIDATION_ERROR",
      source: { pointer: "/colour" },
    });
  });

  it('400 with a pointer into the body as sent, for body: "book"', async () => {
    const { status, body } = await call("/shelves/s1/books", json("POST", { title: "T", pages: "many" }));
    expect(status).toBe(400);
    expect(firstError(body)).toMatchObject({ code: "VALIDATION_ERROR", source: { pointer: "/pages" } });
  });

  it("400 naming the parameter for bad query parameters", async () => {
    const cases: [string, string][] = [
      ["count=abc", "count"],
      ["color=purple", "color"],
      ["flag=maybe", "flag"],
      ["nope=1", "nope"],
      ["book_id=other", "book_id"],
      ["nested=1", "nested"],
    ];
    for (const [query, parameter] of cases) {
      const { status, body } = await call(`/shelves/s1/books/b1?${query}`);
      expect(status, query).toBe(400);
      expect(firstError(body), query).toMatchObject({ code: "VALIDATION_ERROR", source: { parameter } });
    }
  });

  it('400 for a query parameter on a body: "*" route', async () => {
    const { status, body } = await call("/echo/items/x?count=1", json("PUT", {}));
    expect(status).toBe(400);
    expect(firstError(body).source).toEqual({ parameter: "count" });
  });
});
