// What the tests against the provider peers (scripts/provider-peers) share: the push peers with
// the accounts they take, the reset between tests, our local end of a peer's calls (a webhook,
// a callback), the peers' pages, the email sent to them, and the variables of an SMTP slot.

import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Agent } from "node:https";
import { join } from "node:path";
import { beforeEach, expect } from "vitest";
import type { OutgoingMessage } from "../../core/sending/index.ts";
import { routedHttpsAgent } from "../../dispatch/index.ts";
import {
  type ApnsPeer,
  type ApnsPeerOptions,
  type FcmPeer,
  type FcmPeerOptions,
  startApnsPeer,
  startFcmPeer,
} from "../../scripts/provider-peers/index.ts";
import { pemKeyPair } from "./key-pairs.ts";

/** What every peer has to forget between tests. */
interface ResettablePeer {
  clear(): void;
  setFault(fault: { mode: "none" }): void;
}

/** Before each test of the file, the peers `peers()` gives forget what they received and their fault. */
export function resetPeersBeforeEach(peers: () => ResettablePeer[]): void {
  beforeEach(() => {
    for (const peer of peers()) {
      peer.clear();
      peer.setFault({ mode: "none" });
    }
  });
}

/** The accounts the push peers take, made fresh for a test file: a Google service account and an Apple team's key. */
export function pushAccounts(projectId: string) {
  return {
    projectId,
    clientEmail: `sender@${projectId}.iam.gserviceaccount.com`,
    serviceAccount: pemKeyPair("rsa"),
    apnsKey: pemKeyPair("ec"),
    apple: { teamId: "TEAM123456", keyId: "KEY1234567", topic: "ru.notify.app" },
  };
}

export type PushAccounts = ReturnType<typeof pushAccounts>;

/** The FCM peer's options for `accounts`, and any of its own. */
export function fcmPeerOptions(
  accounts: PushAccounts,
  options: Partial<FcmPeerOptions> = {},
): FcmPeerOptions {
  const { projectId, clientEmail, serviceAccount } = accounts;
  return { projectId, clientEmail, publicKey: serviceAccount.publicKey, ...options };
}

/** The APNs peer's options for `accounts`, and any of its own. */
function apnsPeerOptions(accounts: PushAccounts, options: Partial<ApnsPeerOptions> = {}): ApnsPeerOptions {
  return { ...accounts.apple, publicKey: accounts.apnsKey.publicKey, ...options };
}

export interface PushPeers {
  fcm: FcmPeer;
  apns: ApnsPeer;
  /** Takes firebase-admin's hosts to the FCM peer, as the provider is routed there. */
  agent: Agent;
  close(): Promise<void>;
}

/** Both push peers for `accounts`. */
export async function startPushPeers(accounts: PushAccounts): Promise<PushPeers> {
  const [fcm, apns] = await Promise.all([
    startFcmPeer(fcmPeerOptions(accounts)),
    startApnsPeer(apnsPeerOptions(accounts)),
  ]);
  const agent = routedHttpsAgent({ host: fcm.host, port: fcm.port, ca: fcm.ca });
  return {
    fcm,
    apns,
    agent,
    close: async () => {
      agent.destroy();
      await Promise.all([fcm.close(), apns.close()]);
    },
  };
}

/** How our end answers one call. */
export interface ReceiverAnswer {
  status: number;
  contentType?: string;
  body?: string;
}

/** Our end of a peer's calls: the bodies that came, oldest first. */
export interface HttpReceiver {
  url: string;
  bodies: string[];
  close(): Promise<void>;
}

/** A plain HTTP endpoint on a free local port at `path`, answering each body it takes with `answer`. */
export async function startHttpReceiver(
  path: string,
  answer: (body: string) => ReceiverAnswer,
): Promise<HttpReceiver> {
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      bodies.push(body);
      const answered = answer(body);
      response
        .writeHead(answered.status, answered.contentType ? { "content-type": answered.contentType } : {})
        .end(answered.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return {
    url: `http://127.0.0.1:${address.port}${path}`,
    bodies,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A peer's page (`GET /` at `url`) as text, once it is seen to be HTML served so that nothing it shows runs. */
export async function peerPageHtml(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.headers.get("content-type")).toMatch(/^text\/html/);
  expect(response.headers.get("content-security-policy")).toBe(
    "default-src 'none'; style-src 'unsafe-inline'",
  );
  return response.text();
}

/** A subject and an address a page would run as markup if it did not escape them ("<" cannot be in an address). */
export const HOSTILE_EMAIL = {
  subject: "<script>alert('subject')</script>",
  address: "o'brien&co@example.com",
};

/** The email peer's page at `url` shows HOSTILE_EMAIL's subject and address escaped. */
export async function expectHostileEmailEscaped(url: string): Promise<void> {
  const html = await peerPageHtml(url);
  expect(html).toContain("&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt;");
  expect(html).toContain("o&#39;brien&amp;co@example.com");
  expect(html).not.toContain("<script>");
}

/** Bodies no peer's page takes as a fault: no known mode, slow without its delay, a field its mode has not, no JSON. */
export const NOT_FAULTS = [
  '{"mode":"explode"}',
  '{"mode":"slow"}',
  '{"mode":"hang","delayMs":5}',
  "not json",
];

/** Each of NOT_FAULTS posted to `faultUrl` (a page's /fault) is refused: 400, saying what is wrong. */
export async function expectNotFaultsRefused(faultUrl: string): Promise<void> {
  for (const body of NOT_FAULTS) {
    const refused = await fetch(faultUrl, { method: "POST", body });
    expect(refused.status, body).toBe(400);
    expect(((await refused.json()) as { error: string }).error, body).toBeTruthy();
  }
}

/** Whom `email()` goes to unless told otherwise. */
export const EMAIL_RECIPIENT = "ivan.petrov@example.com";

/** An email as the dispatcher gives the email providers one, to `to`. */
export function email(overrides: Partial<OutgoingMessage> = {}, to = EMAIL_RECIPIENT): OutgoingMessage {
  return {
    messageId: randomUUID(),
    destination: { channel: "email", email: to },
    subject: "Заказ A-1 оплачен",
    body: "Здравствуйте, Иван!\nСпасибо за покупку.",
    bodyHtml: "<p>Здравствуйте, <b>Иван</b>!</p><p>Спасибо за покупку.</p>",
    priority: "normal",
    ...overrides,
  };
}

/**
 * The variables of an SMTP slot that sends to an SMTP peer over STARTTLS with a login, its
 * certificate written to `dir` to be trusted. A slot's other variables are the caller's.
 */
export function smtpSlotEnv(options: {
  slot: string;
  host: string;
  port: number;
  ca: string;
  user: string;
  password: string;
  from: string;
  timeoutMs: number;
  dir: string;
}): Record<string, string> {
  const prefix = `EMAIL_PROVIDER_${options.slot.toUpperCase()}`;
  const caFile = join(options.dir, `${options.slot}-${options.port}-ca.pem`);
  writeFileSync(caFile, options.ca);
  return {
    [`${prefix}_HOST`]: options.host,
    [`${prefix}_PORT`]: String(options.port),
    [`${prefix}_SECURITY`]: "starttls",
    [`${prefix}_TLS_CA_FILE`]: caFile,
    [`${prefix}_TLS_SERVERNAME`]: "localhost",
    [`${prefix}_USER`]: options.user,
    [`${prefix}_PASSWORD`]: options.password,
    [`${prefix}_FROM`]: options.from,
    [`${prefix}_TIMEOUT_MS`]: String(options.timeoutMs),
  };
}
