import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/** A key and the certificate it signed for itself, both PEM: what a peer presents over TLS. */
export interface SelfSignedCertificate {
  key: string;
  cert: string;
}

// A DNS name as a certificate carries it: it also goes into openssl's arguments, so nothing else.
const DNS_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * A fresh certificate for localhost and 127.0.0.1, valid for two days. Node can make keys but
 * not certificates, so openssl signs it; P-256 rather than RSA because a test starts several peers.
 * `extraNames` are DNS names it also carries: those of the vendor hosts a peer stands in for,
 * which a client that is routed to the peer checks the certificate against.
 */
export async function selfSignedCertificate(
  extraNames: readonly string[] = [],
): Promise<SelfSignedCertificate> {
  const invalid = extraNames.find((name) => !DNS_NAME.test(name));
  if (invalid !== undefined)
    throw new Error(`a certificate cannot carry ${JSON.stringify(invalid)} as a DNS name`);
  const names = ["DNS:localhost", "IP:127.0.0.1", ...extraNames.map((name) => `DNS:${name}`)];
  const dir = await mkdtemp(join(tmpdir(), "provider-peer-tls-"));
  try {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    await promisify(execFile)("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-subj",
      "/CN=localhost",
      // Clients match the host they dialled against the names here, never against the CN.
      "-addext",
      `subjectAltName=${names.join(",")}`,
      "-days",
      "2",
      "-keyout",
      key,
      "-out",
      cert,
    ]);
    return { key: await readFile(key, "utf8"), cert: await readFile(cert, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
