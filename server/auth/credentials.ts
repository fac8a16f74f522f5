import { looksLikeApiKey } from "../../core/api-keys/index.ts";

export type Credential =
  | { kind: "none" }
  | { kind: "jwt"; token: string }
  | { kind: "api_key"; secret: string }
  | { kind: "invalid"; reason: string };

const BEARER = /^Bearer +([^\s]+) *$/i;

/**
 * What the caller presented: `Authorization: Bearer <JWT or API key>` or `X-Api-Key: <API key>`.
 * An API key is told from a JWT by its prefix. Two credentials at once are refused rather
 * than one picked, so a caller never runs with rights it did not mean to use.
 */
export function credentialOf(headers: Headers): Credential {
  const authorization = headers.get("authorization");
  const apiKey = headers.get("x-api-key")?.trim();
  if (authorization !== null && apiKey !== undefined) {
    return { kind: "invalid", reason: "send either Authorization or X-Api-Key, not both" };
  }
  if (apiKey !== undefined) {
    return apiKey ? { kind: "api_key", secret: apiKey } : { kind: "invalid", reason: "X-Api-Key is empty" };
  }
  if (authorization === null) return { kind: "none" };
  const token = BEARER.exec(authorization)?.[1];
  if (!token) return { kind: "invalid", reason: 'the Authorization header must be "Bearer <token>"' };
  return looksLikeApiKey(token) ? { kind: "api_key", secret: token } : { kind: "jwt", token };
}
