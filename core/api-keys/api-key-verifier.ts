import { BoundedMap } from "../bounded-map.ts";
import type { Caller } from "../caller.ts";
import { type ApiKeyStore, isActive, type StoredApiKey } from "./api-key.ts";
import { keyIdOf, secretMatches } from "./api-key-secret.ts";

export type ApiKeyCheck = { ok: true; caller: Caller } | { ok: false; reason: string };

export interface ApiKeyVerifierOptions {
  /** How long a looked-up key is reused: the longest a revocation takes to bite. */
  cacheMs: number;
  /** Entries kept at most; random key ids cannot grow the cache past it. */
  maxEntries?: number;
  now?: () => number;
}

interface CacheEntry {
  key: Promise<StoredApiKey | undefined>;
  until: number;
}

/**
 * Turns an API key secret into a caller. Lookups (found or not) are cached for a short
 * time so a busy caller does not cost a PostgreSQL query per call; the hash comparison
 * and the expiry check still run on every call.
 */
export class ApiKeyVerifier {
  private readonly cache: BoundedMap<string, CacheEntry>;
  private readonly now: () => number;

  constructor(
    private readonly store: Pick<ApiKeyStore, "findById">,
    private readonly options: ApiKeyVerifierOptions,
  ) {
    this.cache = new BoundedMap(options.maxEntries ?? 10_000);
    this.now = options.now ?? Date.now;
  }

  /** Rejects only when the store fails; an unusable key is an `ok: false` answer. */
  async verify(secret: string): Promise<ApiKeyCheck> {
    const id = keyIdOf(secret);
    if (!id) return { ok: false, reason: "the API key is malformed" };
    const key = await this.lookup(id);
    if (!key || !secretMatches(secret, key.secretHash))
      return { ok: false, reason: "the API key is unknown" };
    if (key.revokeTime) return { ok: false, reason: "the API key has been revoked" };
    if (!isActive(key, new Date(this.now()))) return { ok: false, reason: "the API key has expired" };
    return { ok: true, caller: { subject: key.id, roles: [...key.roles], via: "api_key" } };
  }

  private lookup(id: string): Promise<StoredApiKey | undefined> {
    const now = this.now();
    const cached = this.cache.get(id);
    if (cached && cached.until > now) return cached.key;
    this.cache.delete(id);
    const key = this.store.findById(id);
    if (this.options.cacheMs > 0) {
      this.cache.set(id, { key, until: now + this.options.cacheMs });
      // A failed lookup is not remembered: the next call asks again.
      key.catch(() => {
        if (this.cache.get(id)?.key === key) this.cache.delete(id);
      });
    }
    return key;
  }
}
