import { type ApiKeyStore, ApiKeyVerifier, hashOfSecret, secretMatches } from "../../core/api-keys/index.ts";
import { ANONYMOUS, type Caller } from "../../core/caller.ts";
import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { AuthConfig } from "../config.ts";
import { credentialOf } from "./credentials.ts";
import { createJwtVerifier, type JwtVerifier, KeySourceError } from "./jwt-verifier.ts";

const BOOTSTRAP_ADMIN: Caller = Object.freeze<Caller>({
  subject: "bootstrap",
  roles: ["admin"],
  via: "api_key",
});

/** Establishes the caller of a request from its headers; throws UNAUTHENTICATED for a bad credential. */
export type Authenticator = (headers: Headers) => Promise<Caller>;

export function createAuthenticator(
  config: AuthConfig,
  apiKeyStore: Pick<ApiKeyStore, "findById">,
  logger: Logger,
): Authenticator {
  const verifyJwt: JwtVerifier | undefined = createJwtVerifier(config.jwt);
  const apiKeys = new ApiKeyVerifier(apiKeyStore, { cacheMs: config.apiKeyCacheMs });
  const log = logger.child({ component: "authentication" });
  const bootstrapHash = config.bootstrapAdminKey && hashOfSecret(config.bootstrapAdminKey);
  if (bootstrapHash) {
    log.warn({}, "AUTH_BOOTSTRAP_ADMIN_KEY is set: unset it once a real admin API key exists");
  }

  return async (headers) => {
    const credential = credentialOf(headers);
    switch (credential.kind) {
      case "none":
        return ANONYMOUS;
      case "invalid":
        throw unauthenticated(credential.reason);
      case "jwt": {
        if (!verifyJwt) throw unauthenticated("this service is configured to accept API keys only");
        const check = await verifyJwt(credential.token).catch((error: unknown) => {
          if (!(error instanceof KeySourceError)) throw error;
          log.warn({ err: error.cause }, "the JWT signing keys are unavailable");
          throw new DomainError(ErrorCatalog.unavailable, "the token cannot be checked right now");
        });
        if (!check.ok) throw unauthenticated(check.reason);
        return check.caller;
      }
      case "api_key": {
        if (bootstrapHash && secretMatches(credential.secret, bootstrapHash)) return BOOTSTRAP_ADMIN;
        const check = await apiKeys.verify(credential.secret).catch((error: unknown) => {
          log.warn({ err: error }, "API keys cannot be looked up");
          throw new DomainError(ErrorCatalog.unavailable, "the API key cannot be checked right now");
        });
        if (!check.ok) throw unauthenticated(check.reason);
        return check.caller;
      }
    }
  };
}

function unauthenticated(reason: string): DomainError {
  return new DomainError(ErrorCatalog.unauthenticated, reason);
}
