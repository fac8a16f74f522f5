import { describe, expect, it } from "vitest";
import { ApiKeyVerifier, mintApiKeySecret, type StoredApiKey } from "../../../../core/api-keys/index.ts";

// The store as the verifier sees it (one method), so the cache bound can be shown with a clock.
function keyStore() {
  const keys = new Map<string, StoredApiKey>();
  let lookups = 0;
  let failing = false;
  return {
    keys,
    lookups: () => lookups,
    fail: (on: boolean) => {
      failing = on;
    },
    async findById(id: string) {
      lookups += 1;
      if (failing) throw new Error("PostgreSQL is down");
      const key = keys.get(id);
      return key && { ...key };
    },
  };
}

function addKey(store: ReturnType<typeof keyStore>, extra: Partial<StoredApiKey> = {}) {
  const minted = mintApiKeySecret();
  store.keys.set(minted.id, {
    id: minted.id,
    name: "test",
    prefix: minted.prefix,
    roles: ["service"],
    createTime: new Date(0),
    createdBy: "admin",
    secretHash: minted.secretHash,
    ...extra,
  });
  return minted;
}

describe("API key verification", () => {
  it("turns a valid key into a caller named by the key id", async () => {
    const store = keyStore();
    const minted = addKey(store);
    const verifier = new ApiKeyVerifier(store, { cacheMs: 30_000 });
    expect(await verifier.verify(minted.secret)).toEqual({
      ok: true,
      caller: { subject: minted.id, roles: ["service"], via: "api_key" },
    });
  });

  it("refuses malformed, unknown and wrong secrets alike, without telling which", async () => {
    const store = keyStore();
    const minted = addKey(store);
    const verifier = new ApiKeyVerifier(store, { cacheMs: 30_000 });
    expect(await verifier.verify("nsk_nope")).toEqual({ ok: false, reason: "the API key is malformed" });
    expect(await verifier.verify(mintApiKeySecret().secret)).toEqual({
      ok: false,
      reason: "the API key is unknown",
    });
    const wrong = `${minted.secret.slice(0, -43)}${"A".repeat(43)}`;
    expect(await verifier.verify(wrong)).toEqual({ ok: false, reason: "the API key is unknown" });
  });

  it("refuses a revoked key and an expired one", async () => {
    const store = keyStore();
    const revoked = addKey(store, { revokeTime: new Date(1) });
    const expired = addKey(store, { expireTime: new Date(Date.now() - 1) });
    const verifier = new ApiKeyVerifier(store, { cacheMs: 30_000 });
    expect(await verifier.verify(revoked.secret)).toMatchObject({ reason: "the API key has been revoked" });
    expect(await verifier.verify(expired.secret)).toMatchObject({ reason: "the API key has expired" });
  });

  it("looks a key up once per cache period, so a revocation bites within that bound", async () => {
    let now = 1_000_000;
    const store = keyStore();
    const minted = addKey(store);
    const verifier = new ApiKeyVerifier(store, { cacheMs: 30_000, now: () => now });
    for (let i = 0; i < 10; i += 1) expect((await verifier.verify(minted.secret)).ok).toBe(true);
    expect(store.lookups()).toBe(1);

    const key = store.keys.get(minted.id);
    if (key) key.revokeTime = new Date(now);
    now += 29_999;
    expect((await verifier.verify(minted.secret)).ok).toBe(true);
    now += 1;
    expect(await verifier.verify(minted.secret)).toMatchObject({ reason: "the API key has been revoked" });
    expect(store.lookups()).toBe(2);
  });

  it("checks expiry on every call, not only at lookup", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const store = keyStore();
    const minted = addKey(store, { expireTime: new Date(now + 1_000) });
    const verifier = new ApiKeyVerifier(store, { cacheMs: 60_000, now: () => now });
    expect((await verifier.verify(minted.secret)).ok).toBe(true);
    now += 1_000;
    expect(await verifier.verify(minted.secret)).toMatchObject({ reason: "the API key has expired" });
  });

  it("keeps at most maxEntries keys, and does not remember a failed lookup", async () => {
    const store = keyStore();
    const first = addKey(store);
    const verifier = new ApiKeyVerifier(store, { cacheMs: 60_000, maxEntries: 2 });
    await verifier.verify(first.secret);
    await verifier.verify(addKey(store).secret);
    await verifier.verify(addKey(store).secret);
    await verifier.verify(first.secret);
    expect(store.lookups()).toBe(4);

    const other = addKey(store);
    store.fail(true);
    await expect(verifier.verify(other.secret)).rejects.toThrow("PostgreSQL is down");
    store.fail(false);
    expect((await verifier.verify(other.secret)).ok).toBe(true);
  });
});
