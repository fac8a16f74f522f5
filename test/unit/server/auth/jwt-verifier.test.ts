import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJwtVerifier, type JwtVerifier, KeySourceError } from "../../../../server/auth/jwt-verifier.ts";
import type { AuthConfig } from "../../../../server/config.ts";

type JwtConfig = AuthConfig["jwt"];
type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"] | Uint8Array;

const NOW = new Date("2026-06-01T12:00:00Z");
const NOW_S = NOW.getTime() / 1000;
const SECRET = "a-test-secret-of-at-least-32-bytes!!";
const BASE: JwtConfig = {
  jwksRefreshSeconds: 0,
  audience: [],
  clockSkewSeconds: 30,
  verifiedCacheSeconds: 0,
};

function verifier(config: Partial<JwtConfig>): JwtVerifier {
  const verify = createJwtVerifier({ ...BASE, ...config }, () => NOW);
  if (!verify) throw new Error("no verifier");
  return verify;
}

async function token(
  key: SigningKey,
  claims: JWTPayload = {},
  header: { alg: string; kid?: string } = { alg: "HS256" },
): Promise<string> {
  return new SignJWT({ sub: "user-1", roles: ["admin"], iat: NOW_S - 10, exp: NOW_S + 300, ...claims })
    .setProtectedHeader(header)
    .sign(key);
}

const hsKey = new TextEncoder().encode(SECRET);

function reasonOf(check: Awaited<ReturnType<JwtVerifier>>): string | undefined {
  return check.ok ? undefined : check.reason;
}

describe("JWT verification", () => {
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  let rsaPem: string;
  let ec: Awaited<ReturnType<typeof generateKeyPair>>;

  beforeAll(async () => {
    rsa = await generateKeyPair("RS256", { extractable: true });
    rsaPem = await exportSPKI(rsa.publicKey);
    ec = await generateKeyPair("ES256", { extractable: true });
  });

  it("is off when no key is configured", () => {
    expect(createJwtVerifier(BASE)).toBeUndefined();
  });

  it("accepts HS256 and takes the subject and our roles, ignoring other systems' roles", async () => {
    const verify = verifier({ hs256Secret: SECRET });
    const check = await verify(await token(hsKey, { roles: ["user", "billing-admin", "user"] }));
    expect(check).toEqual({
      ok: true,
      caller: { subject: "user-1", roles: ["user"], via: "jwt" },
      expiresAt: new Date((NOW_S + 300) * 1000),
    });
    expect(await verify(await token(hsKey, { roles: undefined }))).toMatchObject({
      ok: true,
      caller: { roles: [] },
    });
  });

  it("refuses a roles claim that is not a list of names, and a missing subject", async () => {
    const verify = verifier({ hs256Secret: SECRET });
    expect(reasonOf(await verify(await token(hsKey, { roles: "admin" })))).toMatch(/"roles" claim/);
    expect(reasonOf(await verify(await token(hsKey, { sub: undefined })))).toBe(
      'the token has no "sub" claim',
    );
  });

  it("refuses a wrong HS256 secret", async () => {
    const other = new TextEncoder().encode("another-secret-of-at-least-32-bytes!");
    expect(reasonOf(await verifier({ hs256Secret: SECRET })(await token(other)))).toBe(
      "the token's signature does not verify",
    );
  });

  it("accepts RS256 with a PEM public key and refuses a tampered payload", async () => {
    const verify = verifier({ rs256PublicKey: rsaPem });
    const good = await token(rsa.privateKey, {}, { alg: "RS256" });
    expect(await verify(good)).toMatchObject({ ok: true, caller: { subject: "user-1", roles: ["admin"] } });
    const [header, , signature] = good.split(".");
    const forged = Buffer.from(
      JSON.stringify({ sub: "user-2", roles: ["admin"], exp: NOW_S + 300 }),
    ).toString("base64url");
    expect(reasonOf(await verify(`${header}.${forged}.${signature}`))).toBe(
      "the token's signature does not verify",
    );
  });

  it("accepts ES256 with a PEM public key", async () => {
    const verify = verifier({ es256PublicKey: await exportSPKI(ec.publicKey) });
    expect((await verify(await token(ec.privateKey, {}, { alg: "ES256" }))).ok).toBe(true);
  });

  it('refuses "none" and algorithms without a configured key', async () => {
    const unsigned = [
      { alg: "none", typ: "JWT" },
      { sub: "user-1", roles: ["admin"], exp: NOW_S + 300 },
    ]
      .map((part) => Buffer.from(JSON.stringify(part)).toString("base64url"))
      .join(".");
    const verify = verifier({ rs256PublicKey: rsaPem });
    expect(reasonOf(await verify(`${unsigned}.`))).toBe("the token's signing algorithm is not accepted");
    expect(reasonOf(await verify(await token(hsKey)))).toBe("the token's signing algorithm is not accepted");
    expect(
      reasonOf(await verifier({ hs256Secret: SECRET })(await token(rsa.privateKey, {}, { alg: "RS256" }))),
    ).toBe("the token's signing algorithm is not accepted");
  });

  it("refuses HS256 signed with the RSA public key as the secret (algorithm confusion)", async () => {
    const confused = await token(new TextEncoder().encode(rsaPem));
    expect(reasonOf(await verifier({ rs256PublicKey: rsaPem })(confused))).toBe(
      "the token's signing algorithm is not accepted",
    );
    // With HS256 on as well, the token is checked against the HS256 secret, never the PEM.
    expect(reasonOf(await verifier({ rs256PublicKey: rsaPem, hs256Secret: SECRET })(confused))).toBe(
      "the token's signature does not verify",
    );
  });

  it("checks exp, nbf and iat with the configured clock skew", async () => {
    const verify = verifier({ hs256Secret: SECRET, clockSkewSeconds: 30 });
    expect(reasonOf(await verify(await token(hsKey, { exp: NOW_S - 60 })))).toBe("the token has expired");
    expect((await verify(await token(hsKey, { exp: NOW_S - 10 }))).ok).toBe(true);
    expect(reasonOf(await verify(await token(hsKey, { nbf: NOW_S + 60 })))).toBe(
      'the token\'s "nbf" claim is not accepted',
    );
    expect((await verify(await token(hsKey, { nbf: NOW_S + 10 }))).ok).toBe(true);
    expect(reasonOf(await verify(await token(hsKey, { iat: NOW_S + 120 })))).toBe(
      'the token\'s "iat" is in the future',
    );
    expect((await verify(await token(hsKey, { iat: NOW_S + 10 }))).ok).toBe(true);
    expect(reasonOf(await verify(await token(hsKey, { exp: undefined })))).toBe(
      'the token has no "exp" claim',
    );

    const strict = verifier({ hs256Secret: SECRET, clockSkewSeconds: 0 });
    expect(reasonOf(await strict(await token(hsKey, { exp: NOW_S - 10 })))).toBe("the token has expired");
  });

  it("checks iss and aud when configured", async () => {
    const verify = verifier({
      hs256Secret: SECRET,
      issuer: "https://id.example",
      audience: ["notify", "all"],
    });
    const good = { iss: "https://id.example", aud: "notify" };
    expect((await verify(await token(hsKey, good))).ok).toBe(true);
    expect((await verify(await token(hsKey, { ...good, aud: ["other", "all"] }))).ok).toBe(true);
    expect(reasonOf(await verify(await token(hsKey, { ...good, iss: "https://evil.example" })))).toBe(
      'the token\'s "iss" claim is not accepted',
    );
    expect(reasonOf(await verify(await token(hsKey, { ...good, aud: "other" })))).toBe(
      'the token\'s "aud" claim is not accepted',
    );
    expect(reasonOf(await verify(await token(hsKey, { aud: "notify" })))).toBe(
      'the token has no "iss" claim',
    );
  });

  it("never repeats the token in a reason", async () => {
    const bad = `${await token(hsKey)}x`;
    const reason = reasonOf(await verifier({ hs256Secret: SECRET })(bad)) ?? "";
    expect(reason).not.toContain(bad.split(".")[1]);
    expect(reasonOf(await verifier({ hs256Secret: SECRET })("not-a-jwt"))).toBe("the token is malformed");
  });

  describe("with a JWKS file", () => {
    let dir: string;
    let path: string;
    const keys: Record<string, Awaited<ReturnType<typeof generateKeyPair>>> = {};

    const writeSet = async (...kids: string[]) => {
      const jwks = await Promise.all(
        kids.map(async (kid) => {
          const pair = keys[kid];
          if (!pair) throw new Error(kid);
          return { ...(await exportJWK(pair.publicKey)), kid, alg: kid.startsWith("ec") ? "ES256" : "RS256" };
        }),
      );
      writeFileSync(path, JSON.stringify({ keys: jwks }));
    };
    const signedBy = (kid: string, claims: JWTPayload = {}) => {
      const pair = keys[kid];
      if (!pair) throw new Error(kid);
      return token(pair.privateKey, claims, { alg: kid.startsWith("ec") ? "ES256" : "RS256", kid });
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "jwks-"));
      path = join(dir, "jwks.json");
      keys["rsa-1"] = await generateKeyPair("RS256");
      keys["rsa-2"] = await generateKeyPair("RS256");
      keys["ec-1"] = await generateKeyPair("ES256");
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("follows a key rotation: a new kid is picked up, a removed one stops working", async () => {
      await writeSet("rsa-1", "ec-1");
      const verify = verifier({ jwksFile: path, jwksRefreshSeconds: 0, verifiedCacheSeconds: 0 });
      expect((await verify(await signedBy("rsa-1"))).ok).toBe(true);
      expect((await verify(await signedBy("ec-1"))).ok).toBe(true);

      await writeSet("rsa-2");
      expect((await verify(await signedBy("rsa-2"))).ok).toBe(true);
      expect(reasonOf(await verify(await signedBy("rsa-1")))).toBe("no known key matches the token's key id");
    });

    it("trusts a token it verified until the cache bound, even after its key is removed", async () => {
      await writeSet("rsa-1");
      const verify = verifier({ jwksFile: path, jwksRefreshSeconds: 0, verifiedCacheSeconds: 60 });
      const token = await signedBy("rsa-1");
      expect((await verify(token)).ok).toBe(true);
      await writeSet("rsa-2");
      expect((await verify(await signedBy("rsa-2"))).ok).toBe(true);
      expect((await verify(token)).ok).toBe(true);
      expect(reasonOf(await verify(await signedBy("rsa-1", { jti: "another" })))).toBe(
        "no known key matches the token's key id",
      );
    });

    it("re-reads the file at most once per refresh interval", async () => {
      await writeSet("rsa-1");
      const verify = verifier({ jwksFile: path, jwksRefreshSeconds: 3600 });
      await writeSet("rsa-1", "rsa-2");
      expect(reasonOf(await verify(await signedBy("rsa-2")))).toBe("no known key matches the token's key id");
    });
  });

  describe("with a JWKS URL", () => {
    let server: Server;
    let url: string;
    let fetches = 0;
    let jwks: object = { keys: [] };

    beforeAll(async () => {
      server = createServer((_, response) => {
        fetches += 1;
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    });

    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("fetches once, refetches for an unknown kid, but no more often than the refresh interval", async () => {
      jwks = { keys: [{ ...(await exportJWK(rsa.publicKey)), kid: "a", alg: "RS256" }] };
      const verify = verifier({ jwksUrl: url, jwksRefreshSeconds: 3600 });
      const signed = await token(rsa.privateKey, {}, { alg: "RS256", kid: "a" });
      expect((await verify(signed)).ok).toBe(true);
      expect((await verify(signed)).ok).toBe(true);
      expect(fetches).toBe(1);
      const unknown = await token(rsa.privateKey, {}, { alg: "RS256", kid: "b" });
      for (let i = 0; i < 5; i += 1) {
        expect(reasonOf(await verify(unknown))).toBe("no known key matches the token's key id");
      }
      expect(fetches).toBe(1);

      const rotating = verifier({ jwksUrl: url, jwksRefreshSeconds: 0 });
      expect((await rotating(signed)).ok).toBe(true);
      jwks = { keys: [{ ...(await exportJWK(rsa.publicKey)), kid: "b", alg: "RS256" }] };
      expect((await rotating(unknown)).ok).toBe(true);
      expect(fetches).toBe(3);
    });

    it("throws KeySourceError when the key set cannot be fetched", async () => {
      const verify = verifier({ jwksUrl: "http://127.0.0.1:9/jwks.json" });
      await expect(
        verify(await token(rsa.privateKey, {}, { alg: "RS256", kid: "a" })),
      ).rejects.toBeInstanceOf(KeySourceError);
    });
  });
});
