import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  hashOfSecret,
  keyIdOf,
  looksLikeApiKey,
  mintApiKeySecret,
  secretMatches,
} from "../../../../core/api-keys/index.ts";

describe("API key secrets", () => {
  it("mints nsk_<key id>_<256-bit secret>, with a visible prefix and a SHA-256 hash", () => {
    const minted = mintApiKeySecret();
    expect(minted.secret).toMatch(/^nsk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    expect(minted.secret.startsWith(minted.prefix)).toBe(true);
    expect(minted.prefix).toBe(`nsk_${minted.id.replaceAll("-", "").slice(0, 8)}`);
    expect(minted.secretHash).toBe(createHash("sha256").update(minted.secret).digest("hex"));
    expect(Buffer.from(minted.secret.slice(-43), "base64url")).toHaveLength(32);
  });

  it("never mints the same key twice", () => {
    const secrets = new Set(Array.from({ length: 1000 }, () => mintApiKeySecret().secret));
    expect(secrets.size).toBe(1000);
  });

  it("finds the key id in a well-formed secret only", () => {
    const minted = mintApiKeySecret();
    expect(keyIdOf(minted.secret)).toBe(minted.id);
    for (const bad of [
      "",
      "nsk_",
      minted.secret.slice(0, -1),
      `${minted.secret}x`,
      minted.secret.replace("nsk_", "nsq_"),
      minted.secret.toUpperCase(),
      ` ${minted.secret}`,
    ]) {
      expect(keyIdOf(bad), bad).toBeUndefined();
    }
  });

  it("tells API keys from JWTs by their prefix", () => {
    expect(looksLikeApiKey(mintApiKeySecret().secret)).toBe(true);
    expect(looksLikeApiKey("eyJhbGciOiJIUzI1NiJ9.e30.x")).toBe(false);
  });

  it("matches a secret against its stored hash only", () => {
    const minted = mintApiKeySecret();
    expect(secretMatches(minted.secret, minted.secretHash)).toBe(true);
    expect(secretMatches(`${minted.secret.slice(0, -1)}A`, minted.secretHash)).toBe(
      minted.secret.endsWith("A"),
    );
    expect(secretMatches(mintApiKeySecret().secret, minted.secretHash)).toBe(false);
    expect(secretMatches(minted.secret, "")).toBe(false);
    expect(hashOfSecret("x")).toHaveLength(64);
  });
});
