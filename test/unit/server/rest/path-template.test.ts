import { describe, expect, it } from "vitest";
import {
  matchPath,
  PathTemplateError,
  parsePathTemplate,
  specificity,
} from "../../../../server/rest/path-template.ts";

function match(template: string, path: string, verb?: string): Record<string, string> | undefined {
  const values = matchPath(parsePathTemplate(template), path, verb);
  return values && Object.fromEntries(values);
}

describe("google.api.http path templates", () => {
  it("matches literals and binds simple and nested field variables", () => {
    expect(match("/api/v1/templates/{template_id}", "/api/v1/templates/abc")).toEqual({ template_id: "abc" });
    expect(match("/v1/{template.id}/locales/{locale}", "/v1/t1/locales/ru-RU")).toEqual({
      "template.id": "t1",
      locale: "ru-RU",
    });
    expect(match("/api/v1/templates/{template_id}", "/api/v1/templates")).toBeUndefined();
    expect(match("/api/v1/templates/{template_id}", "/api/v1/templates/a/b")).toBeUndefined();
    expect(match("/api/v1/templates/{template_id}", "/api/v1/templates/")).toBeUndefined();
  });

  it("binds multi-segment patterns and keeps an encoded slash encoded there", () => {
    expect(match("/v1/{name=templates/*}", "/v1/templates/t1")).toEqual({ name: "templates/t1" });
    expect(match("/v1/{name=templates/*}", "/v1/devices/t1")).toBeUndefined();
    expect(match("/v1/{path=**}", "/v1/a/b%2Fc/d")).toEqual({ path: "a/b%2Fc/d" });
    expect(match("/v1/files/{id}", "/v1/files/a%2Fb%20c")).toEqual({ id: "a/b c" });
  });

  it("matches a custom verb only when the request names it", () => {
    expect(match("/v1/templates/{id}:activate", "/v1/templates/t1", "activate")).toEqual({ id: "t1" });
    expect(match("/v1/templates/{id}:activate", "/v1/templates/t1")).toBeUndefined();
    expect(match("/v1/templates/{id}", "/v1/templates/t1", "activate")).toBeUndefined();
  });

  it("lists the fields the path binds", () => {
    expect(parsePathTemplate("/v1/{a.b}/x/{c=**}").boundFields).toEqual(["a.b", "c"]);
  });

  it("ranks literal routes above variable ones", () => {
    expect(specificity(parsePathTemplate("/v1/health/all"))).toBeGreaterThan(
      specificity(parsePathTemplate("/v1/health/{service}")),
    );
  });

  it("rejects malformed templates", () => {
    expect(() => parsePathTemplate("v1/x")).toThrow(PathTemplateError);
    expect(() => parsePathTemplate("/v1/{x")).toThrow(PathTemplateError);
    expect(() => parsePathTemplate("/v1/**/{y=**}")).toThrow(PathTemplateError);
  });

  it("throws on a malformed percent-escape", () => {
    expect(() => match("/v1/files/{id}", "/v1/files/%E0%A4%A")).toThrow(URIError);
  });
});
