import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenApiDocument, Parameter } from "../../server/openapi/openapi-types.ts";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.ts";

const BASE = "/api/v1/notifications";

/** A value of the parameter's type, so that a request gets past the path matching. */
function sampleValue(parameter: Parameter): string {
  const { schema } = parameter;
  if (schema.format === "uuid") return "7f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
  if (schema.type === "integer" || schema.format === "int64") return "1";
  return "sample";
}

describe("the OpenAPI document and the docs page of the built service", () => {
  let service: ServiceProcess;
  let document: OpenApiDocument;

  beforeAll(async () => {
    service = await startServiceProcess({ env: AUTH_ENV });
    const response = await fetch(`${service.httpUrl}${BASE}/openapi.json`);
    expect(response.status, service.output()).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    document = (await response.json()) as OpenApiDocument;
  });

  afterAll(async () => {
    await service?.stop();
  });

  it("serves an OpenAPI 3.1 document with the proto comments, without credentials", () => {
    expect(document.openapi).toBe("3.1.0");
    expect(document.info.title).toBe("Notification Service REST API");
    expect(document.paths[`${BASE}/health`]?.get?.operationId).toBe("Health_Check");
    expect(document.paths[`${BASE}/health`]?.get?.description).toMatch(/^The current status/);
  });

  it("serves the docs page and its assets from this service alone", async () => {
    const page = await fetch(`${service.httpUrl}${BASE}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? "");
    const local = assets.filter((url) => !url.startsWith("data:"));
    expect(local).toEqual([
      `${BASE}/docs/swagger-ui.css`,
      `${BASE}/docs/swagger-ui-bundle.js`,
      `${BASE}/docs/init.js`,
    ]);
    const bundle = await fetch(`${service.httpUrl}${BASE}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await bundle.text()).toContain("SwaggerUIBundle");
    const init = await (await fetch(`${service.httpUrl}${BASE}/docs/init.js`)).text();
    expect(init).toContain(`${BASE}/openapi.json`);
    const missing = await fetch(`${service.httpUrl}${BASE}/docs/package.json`);
    expect(missing.status).toBe(404);
  });

  it("documents only routes the service really serves, with the statuses they answer", async () => {
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
    );
    expect(operations.length).toBeGreaterThan(2);
    for (const { path, method, operation } of operations) {
      let url = path;
      for (const parameter of operation.parameters.filter((p) => p.in === "path")) {
        url = url.replace(`{${parameter.name}}`, encodeURIComponent(sampleValue(parameter)));
      }
      // As an admin, so that each call gets past authentication to the route's own answer.
      const response = await fetch(`${service.httpUrl}${url}`, {
        method: method.toUpperCase(),
        headers: {
          ...authHeaders(),
          ...(operation.requestBody ? { "content-type": "application/json" } : {}),
        },
        ...(operation.requestBody ? { body: "{}" } : {}),
      });
      const text = await response.text();
      const what = `${method.toUpperCase()} ${url} answered ${response.status} ${text}`;
      expect(response.status, what).not.toBe(405);
      expect(response.status, what).not.toBe(401);
      expect(text, what).not.toContain("ROUTE_NOT_FOUND");
      expect(String(response.status), what).toMatch(
        new RegExp(`^(${Object.keys(operation.responses).join("|")})$`),
      );
    }
  });
});
