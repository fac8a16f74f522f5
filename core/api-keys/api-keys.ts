import type { Caller, Role } from "../caller.ts";
import { DomainError, ErrorCatalog } from "../errors.ts";
import type { ApiKey, ApiKeyStore } from "./api-key.ts";
import { mintApiKeySecret } from "./api-key-secret.ts";

export interface NewApiKey {
  name: string;
  roles: Role[];
  expireTime?: Date;
}

/** Creating, listing and revoking API keys. The RPC checks the same rules first; the CLI relies on these. */
export class ApiKeys {
  constructor(
    private readonly store: ApiKeyStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The secret is returned here and nowhere else: only its hash is stored. */
  async create(caller: Caller, request: NewApiKey): Promise<{ apiKey: ApiKey; secret: string }> {
    const createTime = this.now();
    const name = request.name.trim();
    if (!name)
      throw new DomainError(ErrorCatalog.validation, "name: must not be empty", { pointer: "/name" });
    if (request.roles.length === 0) {
      throw new DomainError(ErrorCatalog.validation, "roles: at least one role is needed", {
        pointer: "/roles",
      });
    }
    if (request.expireTime && request.expireTime <= createTime) {
      throw new DomainError(ErrorCatalog.validation, "expire_time: must be in the future", {
        pointer: "/expire_time",
      });
    }
    const { id, secret, secretHash, prefix } = mintApiKeySecret();
    const apiKey: ApiKey = {
      id,
      name,
      prefix,
      roles: [...new Set(request.roles)],
      ...(request.expireTime ? { expireTime: request.expireTime } : {}),
      createTime,
      createdBy: caller.subject,
    };
    await this.store.create({ ...apiKey, secretHash }, caller);
    return { apiKey, secret };
  }

  list(includeInactive: boolean): Promise<ApiKey[]> {
    return this.store.list(includeInactive, this.now());
  }

  /** Revoking twice is not an error: the key stays revoked as of the first time. */
  async revoke(caller: Caller, id: string): Promise<ApiKey> {
    const apiKey = await this.store.revoke(id, this.now(), caller);
    if (!apiKey) {
      throw new DomainError(ErrorCatalog.notFound, `no API key ${id}`, { pointer: "/api_key_id" });
    }
    return apiKey;
  }
}
