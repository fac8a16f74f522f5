import { describe, expect, it } from "vitest";
import { credentialOf } from "../../../../server/auth/credentials.ts";

const KEY = `nsk_${"0".repeat(32)}_${"A".repeat(43)}`;

describe("credentials from request headers", () => {
  it.each<[string, Record<string, string>, ReturnType<typeof credentialOf>]>([
    ["nothing", {}, { kind: "none" }],
    ["a bearer JWT", { authorization: "Bearer a.b.c" }, { kind: "jwt", token: "a.b.c" }],
    ["a lower-case scheme", { authorization: "bearer a.b.c" }, { kind: "jwt", token: "a.b.c" }],
    ["a bearer API key", { authorization: `Bearer ${KEY}` }, { kind: "api_key", secret: KEY }],
    ["X-Api-Key", { "x-api-key": KEY }, { kind: "api_key", secret: KEY }],
  ])("reads %s", (_, headers, expected) => {
    expect(credentialOf(new Headers(headers))).toEqual(expected);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ["another scheme", { authorization: "Basic dXNlcjpwYXNz" }, /must be "Bearer <token>"/],
    ["an empty bearer", { authorization: "Bearer " }, /must be "Bearer <token>"/],
    ["two tokens", { authorization: "Bearer a b" }, /must be "Bearer <token>"/],
    ["an empty X-Api-Key", { "x-api-key": " " }, /X-Api-Key is empty/],
    ["both headers", { authorization: "Bearer a.b.c", "x-api-key": KEY }, /not both/],
  ])("refuses %s", (_, headers, reason) => {
    const credential = credentialOf(new Headers(headers));
    expect(credential.kind).toBe("invalid");
    expect(credential.kind === "invalid" && credential.reason).toMatch(reason);
  });
});
