import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SchemaRegistryClient, SchemaRegistryUnavailableError } from "../../../consumers/index.ts";

// The client against a registry of a few lines that answers as Confluent's API does, so that
// what the client makes of each answer, and how often it asks, can be seen.

const calls: string[] = [];
let answer: (request: IncomingMessage, response: ServerResponse) => void;
let server: Server;
let url = "";

beforeAll(async () => {
  server = createServer((request, response) => {
    calls.push(`${request.method} ${request.url}`);
    answer(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`;
});
afterAll(() => {
  // The call left unanswered on purpose holds its connection open.
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/vnd.schemaregistry.v1+json" });
  response.end(JSON.stringify(body));
}

describe("our schema registry client", () => {
  it("keeps a schema found by id, and asks again for an unknown one", async () => {
    calls.length = 0;
    answer = (request, response) =>
      request.url?.endsWith("/schemas/ids/7")
        ? json(response, 200, { schema: '"string"' })
        : json(response, 404, { error_code: 40403, message: "Schema 1 not found." });
    const client = new SchemaRegistryClient({ url });
    const found = await Promise.all([client.schemaById(7), client.schemaById(7)]);
    expect(found[0]).toEqual({
      kind: "found",
      // Avro when the answer names no type, as Confluent's API leaves it out for Avro.
      schema: { schemaType: "AVRO", schema: '"string"', references: [] },
    });
    expect(await client.schemaById(7)).toEqual(found[0]);
    expect(await client.schemaById(1)).toEqual({ kind: "unknown" });
    expect(await client.schemaById(1)).toEqual({ kind: "unknown" });
    expect(calls).toEqual([
      "GET /apis/ccompat/v7/schemas/ids/7",
      "GET /apis/ccompat/v7/schemas/ids/1",
      "GET /apis/ccompat/v7/schemas/ids/1",
    ]);
  });

  it("tells a registry that cannot answer from an unknown schema, and forgets the failure", async () => {
    const client = new SchemaRegistryClient({ url, timeoutMs: 200 });
    answer = (_request, response) => json(response, 503, { message: "starting" });
    await expect(client.schemaById(3)).rejects.toMatchObject({
      name: "SchemaRegistryUnavailableError",
      status: 503,
    });
    // A 404 without the schema's error code is a wrong base URL, not an unknown schema.
    answer = (_request, response) => json(response, 404, { error_code: 404, message: "no such path" });
    await expect(client.schemaById(3)).rejects.toBeInstanceOf(SchemaRegistryUnavailableError);
    answer = (_request, response) => json(response, 401, { message: "who are you" });
    await expect(client.schemaById(3)).rejects.toBeInstanceOf(SchemaRegistryUnavailableError);
    answer = () => {}; // never answers
    await expect(client.schemaById(3)).rejects.toThrow(/did not answer/);
    answer = (_request, response) => json(response, 200, { schemaType: "PROTOBUF", schema: "CgA=" });
    expect(await client.schemaById(3)).toMatchObject({ kind: "found", schema: { schemaType: "PROTOBUF" } });
  });

  it("rejects with the same error when nothing listens", async () => {
    const client = new SchemaRegistryClient({ url: "http://127.0.0.1:9/apis/ccompat/v7" });
    await expect(client.schemaById(1)).rejects.toBeInstanceOf(SchemaRegistryUnavailableError);
  });
});
