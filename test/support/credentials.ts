// Credentials for end-to-end tests: start the service with `AUTH_ENV`, then call it
// with the headers (or the Connect interceptor) of a token signed with the same secret.
import { createHmac } from "node:crypto";
import type { Interceptor } from "@connectrpc/connect";
import type { Role } from "../../core/caller.ts";

const SECRET = "e2e-only-hs256-secret-of-at-least-32-bytes";

/** The environment that makes a service process accept the tokens below. */
export const AUTH_ENV: Record<string, string> = { AUTH_JWT_HS256_SECRET: SECRET };

/** An HS256 JWT for `subject` with `roles`, valid for ten minutes (or `ttlSeconds`, negative for expired). */
export function bearerToken(subject: string, roles: Role[], ttlSeconds = 600): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString("base64url");
  const unsigned = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({ sub: subject, roles, iat: Math.min(now, now + ttlSeconds - 60), exp: now + ttlSeconds })}`;
  return `${unsigned}.${createHmac("sha256", SECRET).update(unsigned).digest("base64url")}`;
}

export function authHeaders(subject = "e2e-admin", roles: Role[] = ["admin"]): Record<string, string> {
  return { authorization: `Bearer ${bearerToken(subject, roles)}` };
}

/** Adds the same Authorization header to every call of a Connect client. */
export function authInterceptor(subject = "e2e-admin", roles: Role[] = ["admin"]): Interceptor {
  return (next) => async (request) => {
    request.header.set("authorization", `Bearer ${bearerToken(subject, roles)}`);
    return next(request);
  };
}
