import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ApiKey } from "../core/api-keys/index.ts";
import {
  type ApiKey as ApiKeyMessage,
  ApiKeySchema,
} from "../gen/platform/notification/v1/api_key_service_pb.ts";
import { protoRoleOf } from "./roles.ts";

export function apiKeyMessage(apiKey: ApiKey): ApiKeyMessage {
  return create(ApiKeySchema, {
    id: apiKey.id,
    name: apiKey.name,
    prefix: apiKey.prefix,
    roles: apiKey.roles.map(protoRoleOf),
    ...(apiKey.expireTime ? { expireTime: timestampFromDate(apiKey.expireTime) } : {}),
    ...(apiKey.revokeTime ? { revokeTime: timestampFromDate(apiKey.revokeTime) } : {}),
    createTime: timestampFromDate(apiKey.createTime),
    createdBy: apiKey.createdBy,
  });
}
