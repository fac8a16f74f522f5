import type { Caller, Role } from "../caller.ts";

/** An API key as callers see it: never the secret, never its hash. */
export interface ApiKey {
  /** A UUID, also embedded in the secret so a key is found without scanning. */
  id: string;
  name: string;
  /** The first characters of the secret, enough to recognise a key and nothing more. */
  prefix: string;
  roles: Role[];
  expireTime?: Date;
  revokeTime?: Date;
  createTime: Date;
  /** The subject of the caller who created it. */
  createdBy: string;
}

/** As stored: the SHA-256 of the secret (hex), so a leaked table authenticates nothing. */
export interface StoredApiKey extends ApiKey {
  secretHash: string;
}

/** What the API key use cases need from storage. */
export interface ApiKeyStore {
  /** Inserts the key and its audit record in one transaction. */
  create(key: StoredApiKey, caller: Caller): Promise<void>;
  findById(id: string): Promise<StoredApiKey | undefined>;
  /** Newest first; without `includeInactive`, only keys neither revoked nor expired at `now`. */
  list(includeInactive: boolean, now: Date): Promise<ApiKey[]>;
  /**
   * Sets the revoke time unless one is set, with its audit record in the same transaction.
   * Returns the key as it is afterwards, or undefined when there is no such key.
   */
  revoke(id: string, at: Date, caller: Caller): Promise<ApiKey | undefined>;
}

export function isActive(key: ApiKey, now: Date): boolean {
  return key.revokeTime === undefined && (key.expireTime === undefined || key.expireTime > now);
}
