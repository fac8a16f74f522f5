import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

// nsk_<key id: UUID as 32 hex digits>_<secret: 32 random bytes, base64url>. The id lets the
// server find the one row to compare with; the 256-bit secret makes a slow hash pointless.
const PREFIX = "nsk_";
const FORMAT = /^nsk_([0-9a-f]{32})_[A-Za-z0-9_-]{43}$/;
const VISIBLE_PREFIX_LENGTH = PREFIX.length + 8;

export interface MintedSecret {
  id: string;
  secret: string;
  secretHash: string;
  prefix: string;
}

export function mintApiKeySecret(): MintedSecret {
  const id = randomUUID();
  const secret = `${PREFIX}${id.replaceAll("-", "")}_${randomBytes(32).toString("base64url")}`;
  return { id, secret, secretHash: hashOfSecret(secret), prefix: secret.slice(0, VISIBLE_PREFIX_LENGTH) };
}

/** Whether a bearer credential is meant as an API key rather than a JWT (which never starts so). */
export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith(PREFIX);
}

/** The key id inside a well-formed secret; undefined for anything else. */
export function keyIdOf(secret: string): string | undefined {
  const hex = FORMAT.exec(secret)?.[1];
  if (!hex) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function hashOfSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Compares in constant time, so response timing tells nothing about how much of a guess was right. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, "hex");
  const actual = Buffer.from(hashOfSecret(secret), "hex");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
