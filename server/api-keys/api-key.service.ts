import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { ApiKeys } from "../../core/api-keys/index.ts";
import type { Role } from "../../core/caller.ts";
import {
  type ApiKeyService,
  CreateApiKeyResponseSchema,
  ListApiKeysResponseSchema,
} from "../../gen/platform/notification/v1/api_key_service_pb.ts";
import { apiKeyMessage, roleOfProto } from "../../mappers/index.ts";
import { callerKey } from "../api/caller-context.ts";

/** ApiKeyService over the API key use cases. The secret leaves the service in CreateApiKey only. */
export function apiKeyService(apiKeys: ApiKeys): ServiceImpl<typeof ApiKeyService> {
  return {
    async createApiKey(request, context) {
      const { apiKey, secret } = await apiKeys.create(context.values.get(callerKey), {
        name: request.name,
        // Validation has already refused ROLE_UNSPECIFIED and undefined numbers.
        roles: request.roles.map(roleOfProto).filter((role): role is Role => role !== undefined),
        ...(request.expireTime ? { expireTime: timestampDate(request.expireTime) } : {}),
      });
      return create(CreateApiKeyResponseSchema, { apiKey: apiKeyMessage(apiKey), secret });
    },
    async listApiKeys(request) {
      const keys = await apiKeys.list(request.includeInactive);
      return create(ListApiKeysResponseSchema, { apiKeys: keys.map(apiKeyMessage) });
    },
    async revokeApiKey(request, context) {
      return apiKeyMessage(await apiKeys.revoke(context.values.get(callerKey), request.apiKeyId));
    },
  };
}
