export type { ApiKey, ApiKeyStore, StoredApiKey } from "./api-key.ts";
export { hashOfSecret, keyIdOf, looksLikeApiKey, mintApiKeySecret, secretMatches } from "./api-key-secret.ts";
export { ApiKeyVerifier } from "./api-key-verifier.ts";
export { ApiKeys } from "./api-keys.ts";
