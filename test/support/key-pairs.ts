import { generateKeyPairSync } from "node:crypto";

/** A fresh key pair, both halves PEM: RSA as a Google service account's, P-256 as an APNs .p8. */
export function pemKeyPair(type: "rsa" | "ec"): { publicKey: string; privateKey: string } {
  const publicKeyEncoding = { type: "spki", format: "pem" } as const;
  const privateKeyEncoding = { type: "pkcs8", format: "pem" } as const;
  return type === "rsa"
    ? generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding })
    : generateKeyPairSync("ec", { namedCurve: "prime256v1", publicKeyEncoding, privateKeyEncoding });
}
