// The delivery providers, read from the environment with the rest of the configuration
// (config.ts): credentials live only there (spec §7). Each channel names its providers in
// failover order, and each provider is a slot of variables under its channel's prefix:
//   EMAIL_PROVIDERS=primary,secondary
//   EMAIL_PROVIDER_PRIMARY_TYPE=smtp  EMAIL_PROVIDER_PRIMARY_HOST=…  EMAIL_PROVIDER_PRIMARY_PASSWORD=…

import { readFileSync } from "node:fs";
import type { Channel } from "../core/channels.ts";
import type {
  ApnsProviderOptions,
  FcmProviderOptions,
  Pop3MailboxOptions,
  SmscProviderOptions,
  SmsRuProviderOptions,
  SmtpProviderOptions,
  UnisenderGoProviderOptions,
} from "../dispatch/index.ts";
import type { EnvReader } from "./config.ts";

/** One configured provider: what it is, how to reach it, and how fast it may be sent to. */
export type ProviderSettings = {
  /** The channel's slot it fills, e.g. "primary"; its name is `<channel>-<slot>`. */
  slot: string;
  name: string;
  ratePerSecond?: number;
} & (
  | {
      channel: "email";
      kind: "smtp";
      smtp: SmtpProviderOptions;
      /** Where relays mail the bounces of what they took (the sender's mailbox), read for reports. */
      bounceMailbox?: Pop3MailboxOptions;
    }
  | { channel: "email"; kind: "unisender_go"; unisenderGo: UnisenderGoProviderOptions }
  | { channel: "sms"; kind: "smsru"; smsRu: SmsRuProviderOptions }
  | { channel: "sms"; kind: "smsc"; smsc: SmscProviderOptions }
  | {
      channel: "push_fcm";
      kind: "fcm";
      fcm: Omit<FcmProviderOptions, "httpAgent">;
      /** Dev and tests only: every FCM and OAuth request goes to this peer instead of Google's hosts. */
      routeTo?: { host: string; port: number; ca: string };
    }
  | { channel: "push_apns"; kind: "apns"; apns: ApnsProviderOptions }
);

const SLOT = /^[a-z][a-z0-9_]{0,30}$/;

/** Every channel's providers, in their failover order. */
export function readProviders(read: EnvReader): ProviderSettings[] {
  const email = readSlots(read, "EMAIL").flatMap((slot) => readEmailProvider(read, slot));
  checkBounceMailboxes(read, email);
  return [
    ...email,
    ...readSlots(read, "SMS").flatMap((slot) => readSmsProvider(read, slot)),
    ...readFcm(read),
    ...readApns(read),
  ];
}

/** Two slots reading one mailbox would each delete, unread, the other's bounces. */
function checkBounceMailboxes(read: EnvReader, email: ProviderSettings[]): void {
  const readers = new Map<string, string>();
  for (const provider of email) {
    if (provider.kind !== "smtp" || !provider.bounceMailbox) continue;
    const { host, port, user } = provider.bounceMailbox;
    const mailbox = `${host.toLowerCase()}:${port}/${user}`;
    const variable = `EMAIL_PROVIDER_${provider.slot.toUpperCase()}_BOUNCE_MAILBOX`;
    const other = readers.get(mailbox);
    if (other) {
      read.problems.push(
        `${other} and ${variable} name the same mailbox: give each SMTP slot its own, or one slot the mailbox`,
      );
    } else readers.set(mailbox, variable);
  }
}

/** FCM, when a service account is configured: FCM_SERVICE_ACCOUNT_FILE (Google's JSON key file). */
function readFcm(read: EnvReader): ProviderSettings[] {
  const file = read.string("FCM_SERVICE_ACCOUNT_FILE", "");
  if (!file) return [];
  const text = fileText(read, "FCM_SERVICE_ACCOUNT_FILE", file);
  let account: { project_id?: unknown; client_email?: unknown; private_key?: unknown } = {};
  try {
    account = text ? JSON.parse(text) : {};
  } catch {
    read.problems.push("FCM_SERVICE_ACCOUNT_FILE is not JSON (a service account key file)");
  }
  for (const field of ["project_id", "client_email", "private_key"] as const) {
    if (text && typeof account[field] !== "string") {
      read.problems.push(`FCM_SERVICE_ACCOUNT_FILE has no ${field}`);
    }
  }
  const name = "push_fcm-fcm";
  const endpoint = read.string("FCM_ENDPOINT", "");
  const caFile = read.string("FCM_TLS_CA_FILE", "");
  const [host = "", port = ""] = endpoint.split(":");
  if (endpoint && !(host && /^\d{1,5}$/.test(port)))
    read.problems.push(`FCM_ENDPOINT must be host:port, got "${endpoint}"`);
  if (endpoint && !caFile)
    read.problems.push("FCM_ENDPOINT needs FCM_TLS_CA_FILE: the peer's certificate to trust");
  const ca = endpoint && caFile ? fileText(read, "FCM_TLS_CA_FILE", caFile) : undefined;
  const rate = read.integer("FCM_RATE_PER_SECOND", 0, 0, 1_000_000);
  return [
    {
      slot: "fcm",
      name,
      channel: "push_fcm",
      kind: "fcm",
      fcm: {
        name,
        projectId: String(account.project_id ?? ""),
        clientEmail: String(account.client_email ?? ""),
        privateKey: String(account.private_key ?? ""),
        timeoutMs: read.integer("FCM_TIMEOUT_MS", 10_000, 100, 600_000),
      },
      ...(ca ? { routeTo: { host, port: Number(port), ca } } : {}),
      ...(rate > 0 ? { ratePerSecond: rate } : {}),
    },
  ];
}

/** APNs with token-based auth, when APNS_KEY_FILE (the .p8 key) is set, with APNS_KEY_ID and APNS_TEAM_ID. */
function readApns(read: EnvReader): ProviderSettings[] {
  const keyFile = read.string("APNS_KEY_FILE", "");
  if (!keyFile) return [];
  const name = "push_apns-apns";
  const caFile = read.string("APNS_TLS_CA_FILE", "");
  const address = read.string("APNS_ADDRESS", "");
  const ca = caFile ? fileText(read, "APNS_TLS_CA_FILE", caFile) : undefined;
  const rate = read.integer("APNS_RATE_PER_SECOND", 0, 0, 1_000_000);
  return [
    {
      slot: "apns",
      name,
      channel: "push_apns",
      kind: "apns",
      apns: {
        name,
        key: fileText(read, "APNS_KEY_FILE", keyFile) ?? "",
        keyId: read.string("APNS_KEY_ID"),
        teamId: read.string("APNS_TEAM_ID"),
        topic: read.string("APNS_TOPIC"),
        production: read.boolean("APNS_PRODUCTION", false),
        ...(address ? { address, port: read.port("APNS_PORT", 443) } : {}),
        ...(ca ? { ca } : {}),
        timeoutMs: read.integer("APNS_TIMEOUT_MS", 10_000, 100, 600_000),
      },
      ...(rate > 0 ? { ratePerSecond: rate } : {}),
    },
  ];
}

function readSmsProvider(read: EnvReader, slot: string): ProviderSettings[] {
  const prefix = `SMS_PROVIDER_${slot.toUpperCase()}`;
  const name = `sms-${slot}`;
  const kind = read.oneOf(`${prefix}_TYPE`, ["smsru", "smsc"] as const, "smsru");
  const baseUrl = read.string(`${prefix}_BASE_URL`, "") ? read.url(`${prefix}_BASE_URL`, ["https:"]) : "";
  const sender = read.string(`${prefix}_SENDER`, "");
  const caFile = read.string(`${prefix}_TLS_CA_FILE`, "");
  const ca = caFile ? fileText(read, `${prefix}_TLS_CA_FILE`, caFile) : undefined;
  const rate = read.integer(`${prefix}_RATE_PER_SECOND`, 0, 0, 1_000_000);
  const common = {
    name,
    ...(baseUrl ? { baseUrl } : {}),
    ...(sender ? { sender } : {}),
    ...(ca ? { tls: { ca } } : {}),
    timeoutMs: read.integer(`${prefix}_TIMEOUT_MS`, 10_000, 100, 600_000),
  };
  const rated = rate > 0 ? { ratePerSecond: rate } : {};
  if (kind === "smsru") {
    // The specification's SMS_PROVIDER_PRIMARY_API_KEY: SMS.ru calls it api_id.
    const smsRu: SmsRuProviderOptions = { ...common, apiId: read.string(`${prefix}_API_KEY`) };
    return [{ slot, name, channel: "sms", kind, smsRu, ...rated }];
  }
  const smsc: SmscProviderOptions = {
    ...common,
    login: read.string(`${prefix}_LOGIN`),
    password: read.string(`${prefix}_PASSWORD`),
  };
  return [{ slot, name, channel: "sms", kind, smsc, ...rated }];
}

function readSlots(read: EnvReader, channelPrefix: string): string[] {
  const listed = read.string(`${channelPrefix}_PROVIDERS`, "");
  if (!listed) return [];
  const slots = listed.split(",").map((slot) => slot.trim().toLowerCase());
  for (const slot of slots) {
    if (!SLOT.test(slot)) {
      read.problems.push(
        `${channelPrefix}_PROVIDERS must list slot names (letters, digits, _), got "${slot}"`,
      );
    }
  }
  if (new Set(slots).size !== slots.length)
    read.problems.push(`${channelPrefix}_PROVIDERS names a slot twice`);
  return slots.filter((slot) => SLOT.test(slot));
}

function readEmailProvider(read: EnvReader, slot: string): ProviderSettings[] {
  const prefix = `EMAIL_PROVIDER_${slot.toUpperCase()}`;
  const name = `email-${slot}`;
  const kind = read.oneOf(`${prefix}_TYPE`, ["smtp", "unisender_go"] as const, "smtp");
  return kind === "smtp" ? readSmtp(read, prefix, slot, name) : readUnisenderGo(read, prefix, slot, name);
}

/** What every email provider takes the same way: the sender, the rate, the timeout, a CA to trust. */
function readEmailCommon(read: EnvReader, prefix: string) {
  const from = read.string(`${prefix}_FROM`);
  if (from && !/^[^\s@]+@[^\s@]+$/.test(from))
    read.problems.push(`${prefix}_FROM must be an address, got "${from}"`);
  const fromName = read.string(`${prefix}_FROM_NAME`, "");
  const replyTo = read.string(`${prefix}_REPLY_TO`, "");
  const caFile = read.string(`${prefix}_TLS_CA_FILE`, "");
  const ca = caFile ? fileText(read, `${prefix}_TLS_CA_FILE`, caFile) : undefined;
  const rate = read.integer(`${prefix}_RATE_PER_SECOND`, 0, 0, 1_000_000);
  return {
    from: { address: from, ...(fromName ? { name: fromName } : {}) },
    ...(replyTo ? { replyTo } : {}),
    ca,
    timeoutMs: read.integer(`${prefix}_TIMEOUT_MS`, 30_000, 100, 600_000),
    rate: rate > 0 ? { ratePerSecond: rate } : {},
  };
}

function readUnisenderGo(read: EnvReader, prefix: string, slot: string, name: string): ProviderSettings[] {
  const common = readEmailCommon(read, prefix);
  if (read.string(`${prefix}_BOUNCE_MAILBOX`, "")) {
    read.problems.push(
      `${prefix}_BOUNCE_MAILBOX is for SMTP slots: Unisender Go reports bounces to its webhook`,
    );
  }
  const baseUrl = read.string(`${prefix}_BASE_URL`, "") ? read.url(`${prefix}_BASE_URL`, ["https:"]) : "";
  const unisenderGo: UnisenderGoProviderOptions = {
    name,
    apiKey: read.string(`${prefix}_API_KEY`),
    ...(baseUrl ? { baseUrl } : {}),
    from: common.from,
    ...(common.replyTo ? { replyTo: common.replyTo } : {}),
    ...(common.ca ? { tls: { ca: common.ca } } : {}),
    timeoutMs: common.timeoutMs,
  };
  return [{ slot, name, channel: "email", kind: "unisender_go", unisenderGo, ...common.rate }];
}

function readSmtp(read: EnvReader, prefix: string, slot: string, name: string): ProviderSettings[] {
  const kind = "smtp";
  const security = read.oneOf(`${prefix}_SECURITY`, ["starttls", "implicit"] as const, "starttls");
  const user = read.string(`${prefix}_USER`, "");
  const password = read.string(`${prefix}_PASSWORD`, "");
  if (Boolean(user) !== Boolean(password)) {
    read.problems.push(`${prefix}_USER and ${prefix}_PASSWORD go together: set both or neither`);
  }
  const common = readEmailCommon(read, prefix);
  const servername = read.string(`${prefix}_TLS_SERVERNAME`, "");
  const dkimDomain = read.string(`${prefix}_DKIM_DOMAIN`, "");
  const dkimSelector = read.string(`${prefix}_DKIM_SELECTOR`, "");
  const dkimKeyFile = read.string(`${prefix}_DKIM_PRIVATE_KEY_FILE`, "");
  const dkimParts = [dkimDomain, dkimSelector, dkimKeyFile].filter(Boolean).length;
  if (dkimParts > 0 && dkimParts < 3) {
    read.problems.push(
      `${prefix}_DKIM_DOMAIN, ${prefix}_DKIM_SELECTOR and ${prefix}_DKIM_PRIVATE_KEY_FILE go together: set all or none`,
    );
  }
  const dkimKey =
    dkimParts === 3 ? fileText(read, `${prefix}_DKIM_PRIVATE_KEY_FILE`, dkimKeyFile) : undefined;
  const { ca, timeoutMs } = common;
  const smtp: SmtpProviderOptions = {
    name,
    host: read.string(`${prefix}_HOST`),
    port: read.port(`${prefix}_PORT`, security === "implicit" ? 465 : 587),
    security,
    ...(ca || servername ? { tls: { ...(ca ? { ca } : {}), ...(servername ? { servername } : {}) } } : {}),
    ...(user && password ? { auth: { user, password } } : {}),
    from: common.from,
    ...(common.replyTo ? { replyTo: common.replyTo } : {}),
    ...(dkimKey ? { dkim: { domainName: dkimDomain, keySelector: dkimSelector, privateKey: dkimKey } } : {}),
    maxConnections: read.integer(`${prefix}_MAX_CONNECTIONS`, 5, 1, 100),
    connectionTimeoutMs: Math.min(timeoutMs, 10_000),
    greetingTimeoutMs: Math.min(timeoutMs, 15_000),
    socketTimeoutMs: timeoutMs,
  };
  const bounceMailbox = readBounceMailbox(read, prefix, name, timeoutMs);
  return [
    { slot, name, channel: "email", kind, smtp, ...(bounceMailbox ? { bounceMailbox } : {}), ...common.rate },
  ];
}

/**
 * An SMTP slot's bounce mailbox, when `<prefix>_BOUNCE_MAILBOX` is set:
 * pop3s://user:password@host[:port] (TLS from the first byte, 995 by default) or
 * pop3://… (STLS before the login, 110 by default), user and password percent-encoded;
 * `<prefix>_BOUNCE_TLS_CA_FILE` the certificates to trust instead of the system's. No problem
 * quotes the value: it holds the password.
 */
function readBounceMailbox(
  read: EnvReader,
  prefix: string,
  name: string,
  timeoutMs: number,
): Pop3MailboxOptions | undefined {
  const variable = `${prefix}_BOUNCE_MAILBOX`;
  const caVariable = `${prefix}_BOUNCE_TLS_CA_FILE`;
  const value = read.string(variable, "");
  const caFile = read.string(caVariable, "");
  if (!value) {
    if (caFile) read.problems.push(`${caVariable} is set without ${variable}`);
    return undefined;
  }
  const shape = `${variable} must be pop3s://user:password@host[:port] (or pop3:// for STLS)`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    read.problems.push(`${shape}: it is not a URL`);
    return undefined;
  }
  if (url.protocol !== "pop3s:" && url.protocol !== "pop3:") {
    read.problems.push(`${shape}, got "${url.protocol}"`);
    return undefined;
  }
  const decoded = (part: string): string | undefined => {
    try {
      return decodeURIComponent(part);
    } catch {
      return undefined;
    }
  };
  const user = decoded(url.username);
  const password = decoded(url.password);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const problems = [
    ...(user && password ? [] : [`${variable} needs a user and a password (percent-encoded)`]),
    ...(host ? [] : [`${variable} needs a host`]),
    ...((url.pathname && url.pathname !== "/") || url.search || url.hash
      ? [`${variable} takes no path, query or fragment`]
      : []),
  ];
  read.problems.push(...problems);
  const ca = caFile ? fileText(read, caVariable, caFile) : undefined;
  if (problems.length > 0 || !user || !password) return undefined;
  const security = url.protocol === "pop3s:" ? "implicit" : "starttls";
  return {
    name: `${name} bounces`,
    host,
    port: url.port ? Number(url.port) : security === "implicit" ? 995 : 110,
    security,
    user,
    password,
    ...(ca ? { tls: { ca } } : {}),
    timeoutMs,
  };
}

function fileText(read: EnvReader, variable: string, path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    read.problems.push(`${variable}: cannot read "${path}" (${(error as NodeJS.ErrnoException).code})`);
    return undefined;
  }
}

/** The channels some configured provider serves. */
export function channelsServed(providers: readonly ProviderSettings[]): Set<Channel> {
  return new Set(providers.map((provider) => provider.channel));
}
