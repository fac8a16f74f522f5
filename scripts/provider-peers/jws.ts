import { type KeyObject, verify } from "node:crypto";

/** A compact JWS taken apart, before anything in it is trusted. */
export interface Jws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const PART = /^[A-Za-z0-9_-]+$/;

/** `token` as header, payload and signature, or undefined when it is not a compact JWS of JSON objects. */
export function decodeJws(token: string): Jws | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  if (!PART.test(header) || !PART.test(payload) || !PART.test(signature)) return undefined;
  const headerJson = jsonObject(header);
  const payloadJson = jsonObject(payload);
  if (!headerJson || !payloadJson) return undefined;
  return {
    header: headerJson,
    payload: payloadJson,
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, "base64url"),
  };
}

/**
 * Whether `key` made the signature with `alg`, the only algorithm the peer accepts from this
 * signer: the header's own `alg` must say the same, so a token cannot pick a weaker check.
 */
export function signedWith(jws: Jws, alg: "RS256" | "ES256", key: KeyObject): boolean {
  if (jws.header.alg !== alg) return false;
  const data = Buffer.from(jws.signingInput);
  // JWS carries an ECDSA signature as r and s side by side (RFC 7518 §3.4), not as DER.
  return alg === "RS256"
    ? verify("sha256", data, key, jws.signature)
    : verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, jws.signature);
}

function jsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
