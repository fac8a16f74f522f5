import { defineEntity, p } from "@mikro-orm/core";

/** A row of api_keys (migration 0004). Holds the SHA-256 of the secret, never the secret. */
export const ApiKeyRecord = defineEntity({
  name: "ApiKeyRecord",
  tableName: "api_keys",
  properties: {
    id: p.uuid().primary(),
    name: p.string().length(200),
    prefix: p.string().length(32),
    secretHash: p.string().length(64),
    roles: p.array(),
    expireTime: p.datetime().nullable(),
    revokeTime: p.datetime().nullable(),
    createTime: p.datetime(),
    createdBy: p.string().length(255),
  },
});
