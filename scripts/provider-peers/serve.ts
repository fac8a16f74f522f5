// The provider peers as one process, for local development: the service sends to them as it
// would to the vendors, and a person watches what arrived on their pages.
//
//   node scripts/provider-peers/serve.ts
//
// SMTP: SMTP_PEER_PORT (2525), SMTP_PEER_HTTP_PORT (8025), SMTP_PEER_USER and
// SMTP_PEER_PASSWORD (dev, dev); STARTTLS with a certificate made at each start and written to
// SMTP_PEER_CA_FILE (.local/provider-peers/smtp-ca.pem), for the service to trust. The bounce
// mailbox on SMTP_PEER_POP3_PORT (2995), POP3 over implicit TLS with the same certificate and
// login, holds the reports of addresses marked with `POST /bounces` on the page. Every peer
// listens on 127.0.0.1 only; one JSON object per line goes to stdout, once ready with the
// addresses of all of them. SIGTERM or SIGINT stops them.
//
// SMS.ru: SMSRU_PEER_PORT (2580), SMSRU_PEER_API_ID (dev); delivery statuses POSTed to
// SMSRU_PEER_CALLBACK_URL, when set, SMSRU_PEER_CALLBACK_DELAY_MS (1000) after each SMS.
// SMSC: SMSC_PEER_PORT (2581), SMSC_PEER_LOGIN and SMSC_PEER_PASSWORD (dev, dev). Both over
// HTTPS with a certificate made at each start, written to SMSRU_PEER_CA_FILE and
// SMSC_PEER_CA_FILE (.local/provider-peers/smsru-ca.pem, smsc-ca.pem); each page is at / on
// its port.
//
// Unisender Go: UNISENDER_GO_PEER_PORT (2570) over HTTPS, with a certificate made at each start
// and written to UNISENDER_GO_PEER_CA_FILE (.local/provider-peers/unisender-go-ca.pem), the
// provider's baseUrl being https://127.0.0.1:2570; UNISENDER_GO_PEER_API_KEY (dev), which also
// signs its webhook calls; UNISENDER_GO_PEER_HTTP_PORT (8570) for its page; status events
// POSTed to UNISENDER_GO_PEER_WEBHOOK_URL, when set, UNISENDER_GO_PEER_WEBHOOK_DELAY_MS (1000)
// after each message.
//
// FCM: FCM_PEER_PORT (2590) over HTTPS, standing in for fcm.googleapis.com and
// oauth2.googleapis.com, which firebase-admin cannot be told to leave: the provider reaches it
// through routedHttpsAgent({ host: 127.0.0.1, port, ca }). Its certificate, for those names, is
// written to FCM_PEER_CA_FILE (.local/provider-peers/fcm-ca.pem); the service account it takes,
// made at each start, to FCM_PEER_SERVICE_ACCOUNT_FILE (fcm-service-account.json, Google's
// format: project_id FCM_PEER_PROJECT_ID (notifications-dev), client_email, private_key).
// FCM_PEER_HTTP_PORT (8590) for its page.
// APNs: APNS_PEER_PORT (2591), HTTP/2 over TLS, its certificate written to APNS_PEER_CA_FILE
// (apns-ca.pem); it takes provider tokens of the key made at each start and written to
// APNS_PEER_KEY_FILE (apns-auth-key.p8), id APNS_PEER_KEY_ID (DEVKEY0001), of the team
// APNS_PEER_TEAM_ID (DEVTEAM001), for the topic APNS_PEER_TOPIC (ru.notifications.dev).
// APNS_PEER_HTTP_PORT (8591) for its page.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  FCM_HOSTNAMES,
  startApnsPeer,
  startFcmPeer,
  startSmscPeer,
  startSmsRuPeer,
  startSmtpPeer,
  startUnisenderGoPeer,
} from "./index.ts";

function log(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const port = raw ? Number(raw) : fallback;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    log("error", `invalid ${name}`, { value: raw });
    process.exit(2);
  }
  return port;
}

/** A whole number of milliseconds from `name`, or `fallback` when it is not set. */
function delayFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const delay = raw ? Number(raw) : fallback;
  if (!(Number.isInteger(delay) && delay >= 0)) {
    log("error", `invalid ${name}`, { value: raw });
    process.exit(2);
  }
  return delay;
}

/** A started peer: what the ready line says of it, and how it stops. */
interface RunningPeer {
  addresses: Record<string, unknown>;
  close(): Promise<void>;
}

/** A file a peer hands the service: its certificate, or a key to sign with. */
interface PeerFile {
  path: string;
  /** Written beside and renamed, so that it is read whole or not at all; a secret for its owner alone. */
  write(text: string): Promise<void>;
}

/**
 * The file in `variable`, or `fallback` under .local/provider-peers, removed at once: a file left
 * by an earlier run must not pass for this one's while the peer starts, since whoever waits for
 * it then trusts what it finds.
 */
async function peerFile(variable: string, fallback: string, secret = false): Promise<PeerFile> {
  const path =
    process.env[variable] ||
    fileURLToPath(new URL(`../../.local/provider-peers/${fallback}`, import.meta.url));
  await rm(path, { force: true });
  return {
    path,
    write: async (text) => {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, text, secret ? { mode: 0o600 } : {});
      await rename(`${path}.tmp`, path);
    },
  };
}

/** Writes what a started peer hands the service; a peer whose files cannot be written is stopped. */
async function handOver(peer: { close(): Promise<void> }, files: [PeerFile, string][]): Promise<void> {
  try {
    for (const [file, text] of files) await file.write(text);
  } catch (error) {
    await peer.close();
    throw error;
  }
}

async function startSmtp(): Promise<RunningPeer> {
  const caFile = await peerFile("SMTP_PEER_CA_FILE", "smtp-ca.pem");
  const peer = await startSmtpPeer({
    port: portFromEnv("SMTP_PEER_PORT", 2525),
    httpPort: portFromEnv("SMTP_PEER_HTTP_PORT", 8025),
    pop3Port: portFromEnv("SMTP_PEER_POP3_PORT", 2995),
    user: process.env.SMTP_PEER_USER || "dev",
    password: process.env.SMTP_PEER_PASSWORD || "dev",
    onError: (error) => log("warn", "an SMTP session failed", { error: error.message }),
  });
  await handOver(peer, [[caFile, peer.ca]]);
  return {
    addresses: {
      host: peer.host,
      port: peer.port,
      page: peer.httpUrl,
      ca_file: caFile.path,
      bounce_mailbox: `pop3s://${peer.bounces.host}:${peer.bounces.port}`,
    },
    close: () => peer.close(),
  };
}

async function startSmsRu(): Promise<RunningPeer> {
  const caFile = await peerFile("SMSRU_PEER_CA_FILE", "smsru-ca.pem");
  const callbackDelayMs = delayFromEnv("SMSRU_PEER_CALLBACK_DELAY_MS", 1000);
  const callbackUrl = process.env.SMSRU_PEER_CALLBACK_URL;
  const peer = await startSmsRuPeer({
    port: portFromEnv("SMSRU_PEER_PORT", 2580),
    apiId: process.env.SMSRU_PEER_API_ID || "dev",
    ...(callbackUrl ? { callbackUrl, callbackDelayMs } : {}),
    onError: (error) => log("warn", "an SMS.ru peer connection failed", { error: error.message }),
  });
  await handOver(peer, [[caFile, peer.ca]]);
  return {
    addresses: { url: peer.url, ca_file: caFile.path, callback: callbackUrl ?? null },
    close: () => peer.close(),
  };
}

async function startSmsc(): Promise<RunningPeer> {
  const caFile = await peerFile("SMSC_PEER_CA_FILE", "smsc-ca.pem");
  const peer = await startSmscPeer({
    port: portFromEnv("SMSC_PEER_PORT", 2581),
    login: process.env.SMSC_PEER_LOGIN || "dev",
    password: process.env.SMSC_PEER_PASSWORD || "dev",
    onError: (error) => log("warn", "an SMSC peer connection failed", { error: error.message }),
  });
  await handOver(peer, [[caFile, peer.ca]]);
  return { addresses: { url: peer.url, ca_file: caFile.path }, close: () => peer.close() };
}

async function startUnisenderGo(): Promise<RunningPeer> {
  const caFile = await peerFile("UNISENDER_GO_PEER_CA_FILE", "unisender-go-ca.pem");
  const webhookDelayMs = delayFromEnv("UNISENDER_GO_PEER_WEBHOOK_DELAY_MS", 1000);
  const webhookUrl = process.env.UNISENDER_GO_PEER_WEBHOOK_URL;
  const peer = await startUnisenderGoPeer({
    port: portFromEnv("UNISENDER_GO_PEER_PORT", 2570),
    httpPort: portFromEnv("UNISENDER_GO_PEER_HTTP_PORT", 8570),
    apiKey: process.env.UNISENDER_GO_PEER_API_KEY || "dev",
    ...(webhookUrl ? { webhookUrl, webhookDelayMs } : {}),
    onError: (error) =>
      log("warn", "a Unisender Go peer request or webhook call failed", { error: error.message }),
  });
  await handOver(peer, [[caFile, peer.ca]]);
  return {
    addresses: { url: peer.url, page: peer.httpUrl, ca_file: caFile.path, webhook: webhookUrl ?? null },
    close: () => peer.close(),
  };
}

// Both halves PEM: the public one for the peer to check signatures with, the private one for the service.
const publicKeyEncoding = { type: "spki", format: "pem" } as const;
const privateKeyEncoding = { type: "pkcs8", format: "pem" } as const;

async function startFcm(): Promise<RunningPeer> {
  const caFile = await peerFile("FCM_PEER_CA_FILE", "fcm-ca.pem");
  const accountFile = await peerFile("FCM_PEER_SERVICE_ACCOUNT_FILE", "fcm-service-account.json", true);
  const projectId = process.env.FCM_PEER_PROJECT_ID || "notifications-dev";
  const clientEmail = `notifier@${projectId}.iam.gserviceaccount.com`;
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding,
    privateKeyEncoding,
  });
  const peer = await startFcmPeer({
    projectId,
    clientEmail,
    publicKey,
    port: portFromEnv("FCM_PEER_PORT", 2590),
    httpPort: portFromEnv("FCM_PEER_HTTP_PORT", 8590),
    onError: (error) => log("warn", "an FCM peer connection failed", { error: error.message }),
  });
  const account = {
    type: "service_account",
    project_id: projectId,
    private_key_id: randomBytes(20).toString("hex"),
    private_key: privateKey,
    client_email: clientEmail,
    token_uri: "https://oauth2.googleapis.com/token",
  };
  await handOver(peer, [
    [accountFile, `${JSON.stringify(account, null, 2)}\n`],
    [caFile, peer.ca],
  ]);
  return {
    addresses: {
      host: peer.host,
      port: peer.port,
      stands_in_for: FCM_HOSTNAMES,
      page: peer.httpUrl,
      ca_file: caFile.path,
      service_account_file: accountFile.path,
      project_id: projectId,
    },
    close: () => peer.close(),
  };
}

async function startApns(): Promise<RunningPeer> {
  const caFile = await peerFile("APNS_PEER_CA_FILE", "apns-ca.pem");
  const keyFile = await peerFile("APNS_PEER_KEY_FILE", "apns-auth-key.p8", true);
  const keyId = process.env.APNS_PEER_KEY_ID || "DEVKEY0001";
  const teamId = process.env.APNS_PEER_TEAM_ID || "DEVTEAM001";
  const topic = process.env.APNS_PEER_TOPIC || "ru.notifications.dev";
  // As Apple's .p8: a P-256 key in PKCS#8.
  const { publicKey, privateKey } = generateKeyPairSync("ec", {
    namedCurve: "prime256v1",
    publicKeyEncoding,
    privateKeyEncoding,
  });
  const peer = await startApnsPeer({
    teamId,
    keyId,
    publicKey,
    topic,
    port: portFromEnv("APNS_PEER_PORT", 2591),
    httpPort: portFromEnv("APNS_PEER_HTTP_PORT", 8591),
    onError: (error) => log("warn", "an APNs peer session failed", { error: error.message }),
  });
  await handOver(peer, [
    [keyFile, privateKey],
    [caFile, peer.ca],
  ]);
  return {
    addresses: {
      host: peer.host,
      port: peer.port,
      page: peer.httpUrl,
      ca_file: caFile.path,
      key_file: keyFile.path,
      key_id: keyId,
      team_id: teamId,
      topic,
    },
    close: () => peer.close(),
  };
}

// One entry per peer; each starts in turn, and the process starts all of them or none.
const starters: Record<string, () => Promise<RunningPeer>> = {
  smtp: startSmtp,
  smsru: startSmsRu,
  smsc: startSmsc,
  "unisender-go": startUnisenderGo,
  fcm: startFcm,
  apns: startApns,
};

const running = new Map<string, RunningPeer>();

async function stopAll(): Promise<void> {
  const results = await Promise.allSettled([...running.values()].map((peer) => peer.close()));
  for (const result of results) {
    if (result.status === "rejected")
      log("warn", "a peer did not stop cleanly", { error: String(result.reason) });
  }
}

for (const [name, start] of Object.entries(starters)) {
  try {
    running.set(name, await start());
  } catch (error) {
    log("error", `the ${name} peer did not start`, { error: String(error) });
    await stopAll();
    process.exit(1);
  }
}
log(
  "info",
  "provider peers ready",
  Object.fromEntries([...running].map(([name, peer]) => [name, peer.addresses])),
);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void stopAll().then(() => {
      log("info", "provider peers stopped", { signal });
      process.exit(0);
    });
  });
}
