import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../server/config.ts";

const VALID = {
  DATABASE_URL: "postgres://u:secret@127.0.0.1:5432/db",
  REDIS_URL: "redis://127.0.0.1:6379",
  KAFKA_BROKERS: "127.0.0.1:9092",
  SCHEMA_REGISTRY_URL: "http://127.0.0.1:8081",
  CLICKHOUSE_URL: "http://127.0.0.1:8123",
  RECIPIENT_KEY_ID: "k1",
  RECIPIENT_KEY: Buffer.alloc(32, 1).toString("base64"),
  RECIPIENT_LOOKUP_KEY: Buffer.alloc(32, 2).toString("base64"),
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...VALID, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

function pem(type: "rsa" | "ec"): string {
  const { publicKey } =
    type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return publicKey.export({ type: "spki", format: "pem" }).toString();
}

describe("authentication configuration", () => {
  const dir = mkdtempSync(join(tmpdir(), "auth-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("needs no variable: API keys work without any JWT key", () => {
    expect(loadConfig(VALID).auth).toEqual({
      jwt: { jwksRefreshSeconds: 30, audience: [], clockSkewSeconds: 30, verifiedCacheSeconds: 60 },
      apiKeyCacheMs: 30_000,
    });
  });

  it("reads every variable", () => {
    const jwks = join(dir, "jwks.json");
    writeFileSync(jwks, '{"keys":[]}');
    const rsa = pem("rsa");
    const auth = loadConfig({
      ...VALID,
      AUTH_JWT_HS256_SECRET: "s".repeat(32),
      AUTH_JWT_RS256_PUBLIC_KEY: rsa.replaceAll("\n", "\\n"),
      AUTH_JWT_JWKS_FILE: jwks,
      AUTH_JWT_JWKS_REFRESH_SECONDS: "5",
      AUTH_JWT_ISSUER: "https://id.example",
      AUTH_JWT_AUDIENCE: "notify, all",
      AUTH_JWT_CLOCK_SKEW_SECONDS: "0",
      AUTH_JWT_VERIFIED_CACHE_SECONDS: "0",
      AUTH_API_KEY_CACHE_MS: "500",
      AUTH_BOOTSTRAP_ADMIN_KEY: `nsk_${"k".repeat(32)}`,
    }).auth;
    expect(auth.jwt.rs256PublicKey?.trim()).toBe(rsa.trim());
    expect(auth.jwt).toMatchObject({
      hs256Secret: "s".repeat(32),
      jwksFile: jwks,
      jwksRefreshSeconds: 5,
      issuer: "https://id.example",
      audience: ["notify", "all"],
      clockSkewSeconds: 0,
      verifiedCacheSeconds: 0,
    });
    expect(auth.apiKeyCacheMs).toBe(500);
    expect(auth.bootstrapAdminKey).toBe(`nsk_${"k".repeat(32)}`);
  });

  it("names each malformed variable, never a secret's value", () => {
    const problems = problemsOf({
      AUTH_JWT_HS256_SECRET: "short-secret",
      AUTH_JWT_RS256_PUBLIC_KEY: pem("ec"),
      AUTH_JWT_ES256_PUBLIC_KEY: "not a key",
      AUTH_JWT_JWKS_URL: "ftp://keys.example/jwks.json",
      AUTH_JWT_JWKS_FILE: join(dir, "missing.json"),
      AUTH_JWT_CLOCK_SKEW_SECONDS: "-1",
      AUTH_API_KEY_CACHE_MS: "1h",
      AUTH_BOOTSTRAP_ADMIN_KEY: "admin-password",
    });
    expect(problems).toEqual([
      "AUTH_JWT_HS256_SECRET must be at least 32 bytes long",
      'AUTH_JWT_JWKS_URL must use http: or https:, got "ftp:"',
      "set AUTH_JWT_JWKS_URL or AUTH_JWT_JWKS_FILE, not both",
      `AUTH_JWT_JWKS_FILE: no file at "${join(dir, "missing.json")}"`,
      "AUTH_JWT_RS256_PUBLIC_KEY must be a rsa public key, got prime256v1",
      "AUTH_JWT_ES256_PUBLIC_KEY must be a PEM public key",
      'AUTH_JWT_CLOCK_SKEW_SECONDS must be an integer from 0 to 600, got "-1"',
      'AUTH_API_KEY_CACHE_MS must be an integer from 0 to 300000, got "1h"',
      'AUTH_BOOTSTRAP_ADMIN_KEY must be "nsk_" and at least 32 more printable characters',
    ]);
    expect(problems.join("\n")).not.toMatch(/short-secret|admin-password/);
  });
});
