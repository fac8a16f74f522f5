import { type InferEntity, LockMode } from "@mikro-orm/core";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { ApiKey, ApiKeyStore, StoredApiKey } from "../../core/api-keys/index.ts";
import type { Caller, Role } from "../../core/caller.ts";
import { ApiKeyRecord } from "./api-key.entity.ts";
import { recordAudit } from "./audit.ts";

type Row = InferEntity<typeof ApiKeyRecord>;

// ListApiKeys has no paging; a deployment has tens of keys, and this keeps one answer bounded.
const LIST_LIMIT = 1000;

export class PostgresApiKeyStore implements ApiKeyStore {
  constructor(private readonly orm: MikroORM) {}

  async create(key: StoredApiKey, caller: Caller): Promise<void> {
    await this.orm.em.fork().transactional(async (em) => {
      em.create(ApiKeyRecord, {
        id: key.id,
        name: key.name,
        prefix: key.prefix,
        secretHash: key.secretHash,
        roles: key.roles,
        expireTime: key.expireTime ?? null,
        revokeTime: null,
        createTime: key.createTime,
        createdBy: key.createdBy,
      });
      recordAudit(em, { ...auditOf(caller, "api_key.create", key.id), after: apiKeyOf(key) });
    });
  }

  async findById(id: string): Promise<StoredApiKey | undefined> {
    const row = await this.orm.em.fork().findOne(ApiKeyRecord, { id });
    return row ? { ...apiKeyOf(row), secretHash: row.secretHash } : undefined;
  }

  async list(includeInactive: boolean, now: Date): Promise<ApiKey[]> {
    const where = includeInactive
      ? {}
      : { revokeTime: null, $or: [{ expireTime: null }, { expireTime: { $gt: now } }] };
    const rows = await this.orm.em
      .fork()
      .find(ApiKeyRecord, where, { orderBy: { createTime: "desc", id: "asc" }, limit: LIST_LIMIT });
    return rows.map(apiKeyOf);
  }

  async revoke(id: string, at: Date, caller: Caller): Promise<ApiKey | undefined> {
    return this.orm.em.fork().transactional(async (em) => {
      const row = await em.findOne(ApiKeyRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!row) return undefined;
      if (row.revokeTime) return apiKeyOf(row);
      const before = apiKeyOf(row);
      row.revokeTime = at;
      const after = apiKeyOf(row);
      recordAudit(em, { ...auditOf(caller, "api_key.revoke", id), before, after });
      return after;
    });
  }
}

function auditOf(caller: Caller, action: string, id: string) {
  return { caller, action, resourceType: "api_key", resourceId: id };
}

/** Everything but the hash: what callers, and the audit log, may see. */
function apiKeyOf(row: Row | StoredApiKey): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    roles: [...row.roles] as Role[],
    ...(row.expireTime ? { expireTime: row.expireTime } : {}),
    ...(row.revokeTime ? { revokeTime: row.revokeTime } : {}),
    createTime: row.createTime,
    createdBy: row.createdBy,
  };
}
