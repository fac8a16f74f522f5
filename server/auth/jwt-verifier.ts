import {
  createRemoteJWKSet,
  errors,
  importSPKI,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { type Caller, MAX_SUBJECT_LENGTH, type Role } from "../../core/caller.ts";
import { isRole } from "../../mappers/index.ts";
import { LocalLru } from "../../storage/index.ts";
import type { AuthConfig } from "../config.ts";
import { createJwksFromFile } from "./jwks-file.ts";

/** A verified token's caller, and when the token stops being valid (its "exp", which is required). */
export type JwtCheck = { ok: true; caller: Caller; expiresAt: Date } | { ok: false; reason: string };

export type JwtVerifier = (token: string) => Promise<JwtCheck>;

/** The key set could not be read or fetched: the token may be fine, we cannot tell. */
export class KeySourceError extends Error {
  constructor(cause: unknown) {
    super("the JWT signing keys are unavailable", { cause });
    this.name = "KeySourceError";
  }
}

// A caller sends the same token for many calls; verifying it each time (WebCrypto HMAC or RSA)
// was most of the cost of an authenticated request. A verified token is trusted until its
// expiry, for at most verifiedCacheSeconds, so a removed signing key stops working within it.
const VERIFIED_CACHE_ENTRIES = 10_000;

// jose refetches a remote set no more often than the refresh interval, and at least this often.
const JWKS_MAX_AGE_MS = 10 * 60_000;
const JWKS_FETCH_TIMEOUT_MS = 5_000;

/**
 * Verifies bearer JWTs with the configured keys; undefined when none is configured. Each
 * algorithm is bound to its own key source, so an HS256 token can never be checked against
 * an RSA public key used as a shared secret, and "none" is never on the accepted list.
 */
export function createJwtVerifier(
  config: AuthConfig["jwt"],
  now: () => Date = () => new Date(),
): JwtVerifier | undefined {
  const jwks = jwksOf(config);
  // Imported once: handing jose the raw bytes makes it import a WebCrypto key on every call,
  // which was the largest cost of an authenticated request.
  const secret =
    config.hs256Secret === undefined
      ? undefined
      : crypto.subtle.importKey(
          "raw",
          new TextEncoder().encode(config.hs256Secret),
          { name: "HMAC", hash: "SHA-256" },
          false,
          ["verify"],
        );
  const pem = {
    RS256: config.rs256PublicKey === undefined ? undefined : importSPKI(config.rs256PublicKey, "RS256"),
    ES256: config.es256PublicKey === undefined ? undefined : importSPKI(config.es256PublicKey, "ES256"),
  };
  const algorithms = [
    ...(secret ? ["HS256"] : []),
    ...(pem.RS256 || jwks ? ["RS256"] : []),
    ...(pem.ES256 || jwks ? ["ES256"] : []),
  ];
  if (algorithms.length === 0) return undefined;

  const keyFor: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === "HS256" && secret) return secret;
    const fixed = header.alg === "RS256" ? pem.RS256 : header.alg === "ES256" ? pem.ES256 : undefined;
    // A fixed key serves tokens without a kid; a kid is looked up in the key set when there is one.
    if (fixed && (!jwks || header.kid === undefined)) return fixed;
    if (jwks) return jwks(header, token);
    throw new errors.JOSEAlgNotAllowed("no key for this algorithm");
  };

  const verified = new LocalLru<{ caller: Caller; expiresAt: number }>(
    VERIFIED_CACHE_ENTRIES,
    config.verifiedCacheSeconds * 1000,
  );

  return async (token) => {
    const currentDate = now();
    const known = verified.get(token);
    if (known && known.expiresAt > currentDate.getTime()) {
      return { ok: true, caller: known.caller, expiresAt: new Date(known.expiresAt) };
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keyFor, {
        algorithms,
        ...(config.issuer ? { issuer: config.issuer } : {}),
        ...(config.audience.length > 0 ? { audience: config.audience } : {}),
        clockTolerance: config.clockSkewSeconds,
        requiredClaims: ["exp", "sub"],
        currentDate,
      }));
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    }
    const check = callerOf(payload, currentDate, config.clockSkewSeconds);
    if (check.ok && typeof payload.exp === "number" && config.verifiedCacheSeconds > 0) {
      verified.set(token, { caller: check.caller, expiresAt: payload.exp * 1000 });
    }
    return check;
  };
}

function jwksOf(config: AuthConfig["jwt"]): JWTVerifyGetKey | undefined {
  const refreshMs = config.jwksRefreshSeconds * 1000;
  if (config.jwksUrl) {
    return createRemoteJWKSet(new URL(config.jwksUrl), {
      cooldownDuration: refreshMs,
      cacheMaxAge: JWKS_MAX_AGE_MS,
      timeoutDuration: JWKS_FETCH_TIMEOUT_MS,
    });
  }
  if (config.jwksFile) return createJwksFromFile(config.jwksFile, { refreshMs, maxAgeMs: JWKS_MAX_AGE_MS });
  return undefined;
}

function callerOf(payload: JWTPayload, now: Date, skewSeconds: number): JwtCheck {
  // jose checks iat only against a maximum age; a token from the future is refused here.
  if (payload.iat !== undefined && payload.iat > now.getTime() / 1000 + skewSeconds) {
    return { ok: false, reason: 'the token\'s "iat" is in the future' };
  }
  if (typeof payload.sub !== "string" || payload.sub === "") {
    return { ok: false, reason: 'the token\'s "sub" claim is empty' };
  }
  if (payload.sub.length > MAX_SUBJECT_LENGTH || payload.sub.includes("\u0000")) {
    return {
      ok: false,
      reason: `the token's "sub" claim must be at most ${MAX_SUBJECT_LENGTH} characters, without NUL`,
    };
  }
  const claimed = payload.roles ?? [];
  if (!Array.isArray(claimed) || !claimed.every((role) => typeof role === "string")) {
    return { ok: false, reason: 'the token\'s "roles" claim must be a list of role names' };
  }
  // Roles of other systems may share the claim; only ours mean anything here.
  const roles: Role[] = [...new Set(claimed.filter(isRole))];
  return {
    ok: true,
    caller: { subject: payload.sub, roles, via: "jwt" },
    expiresAt: new Date((payload.exp ?? 0) * 1000),
  };
}

/** Why a token was refused, without repeating any part of it. Key-source failures are thrown. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.reason === "missing"
      ? `the token has no "${error.claim}" claim`
      : `the token's "${error.claim}" claim is not accepted`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (error instanceof errors.JWKSNoMatchingKey) return "no known key matches the token's key id";
  if (error instanceof errors.JWKSMultipleMatchingKeys) return "the token's key id is ambiguous";
  if (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    !(error instanceof errors.JOSEError) ||
    error.code === errors.JOSEError.code
  ) {
    throw new KeySourceError(error);
  }
  return "the token is malformed";
}
