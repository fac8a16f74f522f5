// The one place the process reads its environment. Every variable is checked at
// start: a missing or malformed one stops the process with a message naming it.

import { createPublicKey } from "node:crypto";
import { existsSync } from "node:fs";
import { CHANNELS, type Channel } from "../core/channels.ts";
import type { FrequencyCap } from "../core/sending/index.ts";
import { DEFAULT_RENDER_LIMITS, RENDER_LIMIT_SETTINGS, type RenderLimits } from "../core/templates/index.ts";
import { channelsServed, type ProviderSettings, readProviders } from "./provider-config.ts";

export const ROLES = ["api", "worker", "gateway", "all"] as const;
export type Role = (typeof ROLES)[number];

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  role: Role;
  logLevel: LogLevel;
  /** Which finished API calls get a log line: every failed one, and this fraction (0 to 1) of the others. */
  logCalls: { successSampleRate: number };
  http: { host: string; port: number; grpcPort: number; requestMaxBytes: number };
  /** The in-app WebSocket gateway (gateway-ws/PROTOCOL.md). */
  gateway: {
    port: number;
    /** Origins a browser may open the WebSocket from ("*" for any); none by default. */
    allowedOrigins: string[];
    maxConnections: number;
    maxConnectionsPerUser: number;
    heartbeatMs: number;
    authTimeoutMs: number;
    maxFrameBytes: number;
    sendBufferBytes: number;
  };
  shutdownTimeoutMs: number;
  healthProbeTimeoutMs: number;
  healthWatchIntervalMs: number;
  /** Whether /readyz tells anyone each dependency's state and reason; otherwise only admins see them. */
  readyzDetails: boolean;
  postgres: { url: string; poolMax: number };
  redis: { url: string };
  kafka: {
    brokers: string[];
    clientId: string;
    topicPartitions: number;
    replicationFactor: number;
    /** How long a consumer may go silent before its partitions go to the others (a crashed worker's). */
    sessionTimeoutMs: number;
  };
  /** The worker's relay from the outbox to Kafka. */
  outbox: {
    batchSize: number;
    idleMs: number;
    /** How long the relay leaves an event to the process that committed it, which publishes it at once. */
    graceMs: number;
  };
  schemaRegistry: { url: string };
  clickhouse: { url: string; database: string; username: string; password: string };
  /** The worker's writer of delivery statistics to ClickHouse (stats/delivery-stats-writer.ts). */
  statsWriter: {
    batchRows: number;
    flushIntervalMs: number;
    quietMs: number;
    maxBufferedRows: number;
    retryInitialMs: number;
    retryMaxMs: number;
  };
  auth: AuthConfig;
  templateRender: RenderLimits;
  /** The keys that seal recipient addresses, tokens and dispatch jobs at rest (AES-256-GCM). */
  recipientKeys: RecipientKeys;
  /** The send pipeline's Kafka consumers and scheduler, in the worker. */
  pipeline: {
    /** The largest send request record read; larger ones are dead-lettered. */
    requestMaxBytes: number;
    /** Records handled per transaction by the intake and the dispatchers. */
    chunkSize: number;
    partitionsConcurrently: number;
    /** Sends in flight at once per dispatcher chunk. */
    dispatchConcurrency: number;
    /** How often the scheduler looks for due sends. */
    schedulePollMs: number;
    scheduleBatchSize: number;
  };
  campaigns: {
    /** How often each worker looks for scheduled campaigns whose time has come, and for active ones to run. */
    pollMs: number;
    /** Sends per second of all campaigns together, across the workers. */
    ratePerSecond: number;
    /** Audience members a runner reads, submits and checkpoints at a time. */
    pageSize: number;
    /** Campaign messages a user gets at most in a window; null: no cap. */
    frequencyCap: FrequencyCap | null;
  };
  /** Uploads of segments' members: each holds a database connection while it streams. */
  segments: { uploadsPerProcess: number };
  /** The platform's Analytics Service, for "analytics:" segments; none: only uploaded segments. */
  analytics?: {
    url: string;
    /** The longest one attempt of a call waits. */
    timeoutMs: number;
    /** Attempts per call, the first included, while its errors are transient. */
    attempts: number;
    /** Its bearer token, when it asks for one. */
    token?: string;
  };
  /** How status events are written: structured JSON (the specification's), or binary Protobuf or Avro. */
  eventsFormat: "json" | "protobuf" | "avro";
  /** How the dispatcher treats failing providers: retry waits, circuit breakers, rate slots. */
  dispatch: {
    retry: { initialMs: number; maxMs: number; giveUpAfterMs: number };
    breaker: { failuresToOpen: number; openMs: number };
    /** The longest a send waits for its provider's rate slot before it tries another or waits its retry. */
    maxSlotWaitMs: number;
    /** How often a provider without callbacks (SMSC) is asked how its messages went. */
    statusPollMs: number;
  };
  /** Where the api role is reached from outside: the start of the links we put in messages. */
  publicBaseUrl: string;
  /** Signs the unsubscribe links in emails; none: emails carry no unsubscribe link. */
  linkSigningKey?: Buffer;
  /** Open and click tracking of emails; none: no email is tracked. */
  tracking?: {
    /** Signs the open pixels and click redirects. */
    signingKey: Buffer;
    /** How long after an email was queued its opens and clicks count, in days. */
    linkTtlDays: number;
  };
  /** The delivery providers of each channel, in failover order (provider-config.ts). */
  providers: ProviderSettings[];
  /** The development and load-test provider (dispatch/providers/sink.provider.ts). */
  sink: {
    enabled: boolean;
    /** By default the channels no configured provider serves. */
    channels: Channel[];
    file?: string;
    failRate: number;
    failRetryable: boolean;
    latencyMs: number;
    ratePerSecond?: number;
  };
}

export interface RecipientKeys {
  current: { id: string; secret: Buffer };
  /** Keys rotated out, kept to open what they sealed. */
  older: { id: string; secret: Buffer }[];
  /** The HMAC key of the lookup hashes; changing it makes old hashes unfindable, so it is not rotated with the others. */
  lookupSecret: Buffer;
}

/** How callers prove who they are. Every JWT key source is optional; API keys always work. */
export interface AuthConfig {
  jwt: {
    hs256Secret?: string;
    /** PEM (SPKI) public keys. */
    rs256PublicKey?: string;
    es256PublicKey?: string;
    jwksUrl?: string;
    jwksFile?: string;
    /** The least time between two reloads of the key set for a token whose kid it lacks. */
    jwksRefreshSeconds: number;
    issuer?: string;
    /** The token's aud must name one of these, when any are set. */
    audience: string[];
    clockSkewSeconds: number;
    /** How long a verified token is trusted without checking its signature again; 0: every call. */
    verifiedCacheSeconds: number;
  };
  /** How long a verified API key is trusted without a look at PostgreSQL: a revoked key works at most this long. */
  apiKeyCacheMs: number;
  /** Accepted as an admin API key, so the first real key can be created; unset it afterwards. */
  bootstrapAdminKey?: string;
}

const WINDOW_UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** CAMPAIGN_FREQUENCY_CAP: "<messages>/<window>", e.g. "2/24h" (units m, h, d); "0" or unset: no cap. */
function readFrequencyCap(read: EnvReader): FrequencyCap | null {
  const raw = read.string("CAMPAIGN_FREQUENCY_CAP", "0");
  if (raw === "0") return null;
  const match = /^(\d+)\/(\d+)([mhd])$/.exec(raw);
  const messages = Number(match?.[1]);
  const windowMs = Number(match?.[2]) * (WINDOW_UNIT_MS[match?.[3] ?? ""] ?? 0);
  if (!match || messages < 1 || windowMs <= 0) {
    read.problems.push(
      `CAMPAIGN_FREQUENCY_CAP must be "0" or <messages>/<window> with the window in m, h or d (e.g. "2/24h"), got "${raw}"`,
    );
    return null;
  }
  return { messages, windowMs };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Collects every problem before failing, so one start shows all of them. */
export class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string, fallback?: string): string {
    const value = this.env[name]?.trim();
    if (value) return value;
    if (fallback !== undefined) return fallback;
    this.problems.push(`${name} is required`);
    return "";
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  port(name: string, fallback: number): number {
    return this.integer(name, fallback, 1, 65535);
  }

  url(name: string, protocols: string[]): string {
    const value = this.string(name);
    if (!value) return value;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      this.problems.push(`${name} must be a URL, got "${withoutPassword(value)}"`);
      return value;
    }
    if (!protocols.includes(parsed.protocol)) {
      this.problems.push(`${name} must use ${protocols.join(" or ")}, got "${parsed.protocol}"`);
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.env[name]?.trim().toLowerCase();
    if (!raw) return fallback;
    if (raw === "true" || raw === "1") return true;
    if (raw === "false" || raw === "0") return false;
    this.problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.env[name]?.trim();
    if (!value) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name} must be one of ${allowed.join(", ")}, got "${value}"`);
    return fallback;
  }

  /** "all", "errors" or a fraction from 0 to 1. */
  rate(name: string, named: Record<string, number>, fallback: string): number {
    const raw = this.env[name]?.trim() || fallback;
    if (Object.hasOwn(named, raw)) return named[raw] as number;
    const value = Number(raw);
    if (!/^\d*\.?\d+$/.test(raw) || value > 1) {
      this.problems.push(
        `${name} must be ${Object.keys(named).join(", ")} or a fraction from 0 to 1, got "${raw}"`,
      );
      return named[fallback] ?? 0;
    }
    return value;
  }

  hostPortList(name: string): string[] {
    const value = this.string(name);
    if (!value) return [];
    const entries = value.split(",").map((entry) => entry.trim());
    for (const entry of entries) {
      if (!/^[\w.-]+:\d{1,5}$/.test(entry))
        this.problems.push(`${name} must be host:port[,host:port…], got "${entry}"`);
    }
    return entries;
  }
}

function readAuth(read: EnvReader): AuthConfig {
  const hs256Secret = read.string("AUTH_JWT_HS256_SECRET", "") || undefined;
  // RFC 7518 §3.2: an HS256 key shorter than the hash output weakens the signature.
  if (hs256Secret !== undefined && Buffer.byteLength(hs256Secret) < 32) {
    read.problems.push("AUTH_JWT_HS256_SECRET must be at least 32 bytes long");
  }
  const jwksUrl = read.string("AUTH_JWT_JWKS_URL", "")
    ? read.url("AUTH_JWT_JWKS_URL", ["http:", "https:"])
    : "";
  const jwksFile = read.string("AUTH_JWT_JWKS_FILE", "");
  if (jwksUrl && jwksFile) read.problems.push("set AUTH_JWT_JWKS_URL or AUTH_JWT_JWKS_FILE, not both");
  if (jwksFile && !existsSync(jwksFile)) read.problems.push(`AUTH_JWT_JWKS_FILE: no file at "${jwksFile}"`);
  const audience = read.string("AUTH_JWT_AUDIENCE", "");
  return {
    jwt: {
      hs256Secret,
      rs256PublicKey: publicKeyPem(read, "AUTH_JWT_RS256_PUBLIC_KEY", "rsa"),
      es256PublicKey: publicKeyPem(read, "AUTH_JWT_ES256_PUBLIC_KEY", "prime256v1"),
      jwksUrl: jwksUrl || undefined,
      jwksFile: jwksFile || undefined,
      jwksRefreshSeconds: read.integer("AUTH_JWT_JWKS_REFRESH_SECONDS", 30, 0, 3600),
      issuer: read.string("AUTH_JWT_ISSUER", "") || undefined,
      audience: audience ? audience.split(",").map((each) => each.trim()) : [],
      clockSkewSeconds: read.integer("AUTH_JWT_CLOCK_SKEW_SECONDS", 30, 0, 600),
      verifiedCacheSeconds: read.integer("AUTH_JWT_VERIFIED_CACHE_SECONDS", 60, 0, 3600),
    },
    apiKeyCacheMs: read.integer("AUTH_API_KEY_CACHE_MS", 30_000, 0, 300_000),
    bootstrapAdminKey: bootstrapAdminKey(read),
  };
}

/** The budget of every template render; the setting names live with the limits, which name them in errors. */
function readRenderLimits(read: EnvReader): RenderLimits {
  return {
    maxSectionDepth: read.integer(
      RENDER_LIMIT_SETTINGS.maxSectionDepth,
      DEFAULT_RENDER_LIMITS.maxSectionDepth,
      1,
      100,
    ),
    maxOutputBytes: read.integer(
      RENDER_LIMIT_SETTINGS.maxOutputBytes,
      DEFAULT_RENDER_LIMITS.maxOutputBytes,
      1024,
      64 * 1024 * 1024,
    ),
    maxSteps: read.integer(RENDER_LIMIT_SETTINGS.maxSteps, DEFAULT_RENDER_LIMITS.maxSteps, 100, 100_000_000),
  };
}

function readStatsWriter(read: EnvReader): Config["statsWriter"] {
  const batchRows = read.integer("STATS_BATCH_ROWS", 5_000, 1, 1_000_000);
  const maxBufferedRows = read.integer("STATS_MAX_BUFFERED_ROWS", 100_000, 1, 100_000_000);
  if (maxBufferedRows < batchRows) {
    read.problems.push(
      `STATS_MAX_BUFFERED_ROWS (${maxBufferedRows}) must be at least STATS_BATCH_ROWS (${batchRows})`,
    );
  }
  const retryInitialMs = read.integer("STATS_RETRY_INITIAL_MS", 200, 1, 600_000);
  const retryMaxMs = read.integer("STATS_RETRY_MAX_MS", 30_000, 1, 3_600_000);
  if (retryMaxMs < retryInitialMs) {
    read.problems.push(
      `STATS_RETRY_MAX_MS (${retryMaxMs}) must be at least STATS_RETRY_INITIAL_MS (${retryInitialMs})`,
    );
  }
  return {
    batchRows,
    flushIntervalMs: read.integer("STATS_FLUSH_INTERVAL_MS", 1_000, 10, 600_000),
    quietMs: read.integer("STATS_QUIET_MS", 50, 1, 600_000),
    maxBufferedRows,
    retryInitialMs,
    retryMaxMs,
  };
}

function readRecipientKeys(read: EnvReader): RecipientKeys {
  const key = (name: string, id: string, encoded: string) => {
    const secret = Buffer.from(encoded, "base64");
    if (id && !/^[A-Za-z0-9_-]{1,32}$/.test(id))
      read.problems.push(`${name}: a key id is 1 to 32 of A-Z a-z 0-9 _ -`);
    if (encoded && secret.length !== 32)
      read.problems.push(`${name} must be 32 bytes in base64, got ${secret.length} bytes`);
    return { id, secret };
  };
  const current = key("RECIPIENT_KEY", read.string("RECIPIENT_KEY_ID"), read.string("RECIPIENT_KEY"));
  const older = read
    .string("RECIPIENT_OLD_KEYS", "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [id = "", encoded = ""] = entry.split(":");
      return key("RECIPIENT_OLD_KEYS", id, encoded);
    });
  if (new Set([current.id, ...older.map((old) => old.id)]).size !== older.length + 1) {
    read.problems.push("RECIPIENT_KEY_ID and the ids in RECIPIENT_OLD_KEYS must all differ");
  }
  const lookupSecret = Buffer.from(read.string("RECIPIENT_LOOKUP_KEY"), "base64");
  if (lookupSecret.length < 32)
    read.problems.push("RECIPIENT_LOOKUP_KEY must be at least 32 bytes in base64");
  return { current, older, lookupSecret };
}

function readAnalytics(read: EnvReader): { analytics?: NonNullable<Config["analytics"]> } {
  if (!read.string("ANALYTICS_URL", "")) return {};
  const token = read.string("ANALYTICS_TOKEN", "");
  return {
    analytics: {
      url: read.url("ANALYTICS_URL", ["http:", "https:"]),
      timeoutMs: read.integer("ANALYTICS_TIMEOUT_MS", 5_000, 10, 120_000),
      attempts: read.integer("ANALYTICS_ATTEMPTS", 4, 1, 10),
      ...(token ? { token } : {}),
    },
  };
}

function readLinkSigningKey(read: EnvReader): { linkSigningKey?: Buffer } {
  const encoded = read.string("LINK_SIGNING_KEY", "");
  if (!encoded) return {};
  const secret = Buffer.from(encoded, "base64");
  if (secret.length < 32) read.problems.push("LINK_SIGNING_KEY must be at least 32 bytes in base64");
  return { linkSigningKey: secret };
}

function readTracking(read: EnvReader): { tracking?: NonNullable<Config["tracking"]> } {
  const encoded = read.string("TRACKING_SIGNING_KEY", "");
  if (!encoded) return {};
  const signingKey = Buffer.from(encoded, "base64");
  if (signingKey.length < 32) read.problems.push("TRACKING_SIGNING_KEY must be at least 32 bytes in base64");
  return { tracking: { signingKey, linkTtlDays: read.integer("TRACKING_LINK_TTL_DAYS", 90, 1, 3650) } };
}

/** A provider's sends per second from every worker together, when its variable is set. */
function optionalRate(read: EnvReader, name: string): { ratePerSecond?: number } {
  const rate = read.integer(name, 0, 0, 1_000_000);
  return rate > 0 ? { ratePerSecond: rate } : {};
}

function readGateway(read: EnvReader): Config["gateway"] {
  const origins = read.string("GATEWAY_ALLOWED_ORIGINS", "");
  const allowedOrigins = origins
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of allowedOrigins) {
    if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      read.problems.push(
        `GATEWAY_ALLOWED_ORIGINS must list origins like https://app.example.com (scheme and host, no path), got "${origin}"`,
      );
    }
  }
  return {
    port: read.port("GATEWAY_PORT", 8082),
    allowedOrigins,
    maxConnections: read.integer("GATEWAY_MAX_CONNECTIONS", 100_000, 1, 10_000_000),
    maxConnectionsPerUser: read.integer("GATEWAY_MAX_CONNECTIONS_PER_USER", 10, 1, 1_000),
    heartbeatMs: read.integer("GATEWAY_HEARTBEAT_MS", 25_000, 100, 600_000),
    authTimeoutMs: read.integer("GATEWAY_AUTH_TIMEOUT_MS", 10_000, 100, 600_000),
    maxFrameBytes: read.integer("GATEWAY_MAX_FRAME_BYTES", 16 * 1024, 256, 16 * 1024 * 1024),
    sendBufferBytes: read.integer("GATEWAY_SEND_BUFFER_BYTES", 1024 * 1024, 4 * 1024, 256 * 1024 * 1024),
  };
}

function readSink(read: EnvReader, providers: ProviderSettings[]): Config["sink"] {
  // In-app messages go to the inbox (dispatch/providers/in-app.provider.ts) unless listed here.
  const served = new Set([...channelsServed(providers), "in_app" as const]);
  const listed = read.string("SINK_CHANNELS", "");
  const channels = listed
    ? listed.split(",").map((channel) => channel.trim())
    : CHANNELS.filter((channel) => !served.has(channel));
  for (const channel of channels) {
    if (!(CHANNELS as readonly string[]).includes(channel)) {
      read.problems.push(`SINK_CHANNELS must list channels of ${CHANNELS.join(", ")}, got "${channel}"`);
    }
  }
  const failRate = Number(read.string("SINK_FAIL_RATE", "0"));
  if (!(failRate >= 0 && failRate <= 1)) read.problems.push("SINK_FAIL_RATE must be a number from 0 to 1");
  const file = read.string("SINK_FILE", "");
  return {
    enabled: read.boolean("SINK_ENABLED", true),
    channels: channels.filter((channel): channel is Channel =>
      (CHANNELS as readonly string[]).includes(channel),
    ),
    ...(file ? { file } : {}),
    failRate,
    failRetryable: read.boolean("SINK_FAIL_RETRYABLE", true),
    latencyMs: read.integer("SINK_LATENCY_MS", 0, 0, 600_000),
    ...optionalRate(read, "SINK_RATE_PER_SECOND"),
  };
}

function bootstrapAdminKey(read: EnvReader): string | undefined {
  const key = read.string("AUTH_BOOTSTRAP_ADMIN_KEY", "");
  if (!key) return undefined;
  // The prefix lets "Authorization: Bearer" tell it from a JWT, as with every API key.
  if (!/^nsk_[\x21-\x7e]{32,}$/.test(key)) {
    read.problems.push('AUTH_BOOTSTRAP_ADMIN_KEY must be "nsk_" and at least 32 more printable characters');
  }
  return key;
}

/** A PEM public key of the given kind ("rsa", or an EC curve name); "\n" escapes allowed, as env files often need them. */
function publicKeyPem(read: EnvReader, name: string, kind: "rsa" | "prime256v1"): string | undefined {
  const value = read.string(name, "").replaceAll("\\n", "\n");
  if (!value) return undefined;
  try {
    const key = createPublicKey(value);
    const actual =
      key.asymmetricKeyType === "ec" ? key.asymmetricKeyDetails?.namedCurve : key.asymmetricKeyType;
    if (actual !== kind) read.problems.push(`${name} must be a ${kind} public key, got ${actual}`);
  } catch {
    read.problems.push(`${name} must be a PEM public key`);
  }
  return value;
}

function withoutPassword(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}

export function loadConfig(env: Env, roleOverride?: string): Config {
  const read = new EnvReader(env);
  const providers = readProviders(read);
  const role = roleOverride ?? read.oneOf("ROLE", ROLES, "all");
  if (!(ROLES as readonly string[]).includes(role)) {
    read.problems.push(`role must be one of ${ROLES.join(", ")}, got "${role}"`);
  }
  const config: Config = {
    role: role as Role,
    logLevel: read.oneOf("LOG_LEVEL", LOG_LEVELS, "info"),
    // A healthy service answers thousands of calls a second: a line for each costs more CPU
    // than the call itself and says nothing metrics don't. Failed calls are always logged.
    logCalls: { successSampleRate: read.rate("LOG_CALLS", { errors: 0, all: 1 }, "errors") },
    http: {
      host: read.string("HTTP_HOST", "127.0.0.1"),
      port: read.port("HTTP_PORT", 8080),
      grpcPort: read.port("GRPC_PORT", 8081),
      requestMaxBytes: read.integer("REQUEST_MAX_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
    },
    gateway: readGateway(read),
    shutdownTimeoutMs: read.integer("SHUTDOWN_TIMEOUT_MS", 10_000, 100, 300_000),
    healthProbeTimeoutMs: read.integer("HEALTH_PROBE_TIMEOUT_MS", 1_500, 50, 60_000),
    healthWatchIntervalMs: read.integer("HEALTH_WATCH_INTERVAL_MS", 2_000, 100, 600_000),
    readyzDetails: read.boolean("READYZ_DETAILS", false),
    postgres: {
      url: read.url("DATABASE_URL", ["postgres:", "postgresql:"]),
      poolMax: read.integer("DATABASE_POOL_MAX", 10, 1, 500),
    },
    redis: { url: read.url("REDIS_URL", ["redis:", "rediss:"]) },
    kafka: {
      brokers: read.hostPortList("KAFKA_BROKERS"),
      clientId: read.string("KAFKA_CLIENT_ID", "notification-service"),
      topicPartitions: read.integer("KAFKA_TOPIC_PARTITIONS", 6, 1, 1000),
      replicationFactor: read.integer("KAFKA_REPLICATION_FACTOR", 1, 1, 10),
      // Kafka's own bounds (group.min/max.session.timeout.ms) by default.
      sessionTimeoutMs: read.integer("KAFKA_SESSION_TIMEOUT_MS", 30_000, 6_000, 1_800_000),
    },
    outbox: {
      batchSize: read.integer("OUTBOX_BATCH_SIZE", 5_000, 1, 10_000),
      idleMs: read.integer("OUTBOX_IDLE_MS", 100, 10, 60_000),
      graceMs: read.integer("OUTBOX_GRACE_MS", 2_000, 0, 600_000),
    },
    schemaRegistry: { url: read.url("SCHEMA_REGISTRY_URL", ["http:", "https:"]) },
    clickhouse: {
      url: read.url("CLICKHOUSE_URL", ["http:", "https:"]),
      database: read.string("CLICKHOUSE_DATABASE", "default"),
      username: read.string("CLICKHOUSE_USER", "default"),
      password: env.CLICKHOUSE_PASSWORD ?? "",
    },
    statsWriter: readStatsWriter(read),
    auth: readAuth(read),
    templateRender: readRenderLimits(read),
    recipientKeys: readRecipientKeys(read),
    pipeline: {
      requestMaxBytes: read.integer("SEND_REQUEST_MAX_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
      chunkSize: read.integer("PIPELINE_CHUNK_SIZE", 500, 1, 10_000),
      partitionsConcurrently: read.integer("PIPELINE_PARTITIONS_CONCURRENTLY", 3, 1, 100),
      dispatchConcurrency: read.integer("DISPATCH_CONCURRENCY", 64, 1, 10_000),
      schedulePollMs: read.integer("SCHEDULE_POLL_MS", 200, 10, 60_000),
      scheduleBatchSize: read.integer("SCHEDULE_BATCH_SIZE", 500, 1, 10_000),
    },
    // Often enough that with any number of workers a campaign starts within a second of its time.
    campaigns: {
      pollMs: read.integer("CAMPAIGN_POLL_MS", 250, 10, 60_000),
      ratePerSecond: read.integer("CAMPAIGN_RATE_PER_SECOND", 1000, 1, 1_000_000),
      pageSize: read.integer("CAMPAIGN_PAGE_SIZE", 1000, 1, 10_000),
      frequencyCap: readFrequencyCap(read),
    },
    segments: { uploadsPerProcess: read.integer("SEGMENT_UPLOADS_PER_PROCESS", 2, 1, 100) },
    ...readAnalytics(read),
    eventsFormat: read.oneOf("EVENTS_FORMAT", ["json", "protobuf", "avro"] as const, "json"),
    dispatch: {
      retry: {
        initialMs: read.integer("DISPATCH_RETRY_INITIAL_MS", 1_000, 10, 3_600_000),
        maxMs: read.integer("DISPATCH_RETRY_MAX_MS", 300_000, 10, 86_400_000),
        giveUpAfterMs: read.integer("DISPATCH_RETRY_GIVE_UP_AFTER_MS", 86_400_000, 1_000, 30 * 86_400_000),
      },
      breaker: {
        failuresToOpen: read.integer("PROVIDER_BREAKER_FAILURES", 5, 1, 10_000),
        openMs: read.integer("PROVIDER_BREAKER_OPEN_MS", 30_000, 100, 3_600_000),
      },
      maxSlotWaitMs: read.integer("PROVIDER_RATE_MAX_WAIT_MS", 10_000, 0, 60_000),
      statusPollMs: read.integer("PROVIDER_STATUS_POLL_MS", 60_000, 100, 3_600_000),
    },
    publicBaseUrl: "",
    ...readLinkSigningKey(read),
    ...readTracking(read),
    providers,
    sink: readSink(read, providers),
  };
  config.publicBaseUrl = read.string("PUBLIC_BASE_URL", "")
    ? read.url("PUBLIC_BASE_URL", ["http:", "https:"]).replace(/\/+$/, "")
    : `http://${config.http.host}:${config.http.port}`;
  const ports = [config.http.port, config.http.grpcPort, config.gateway.port];
  if (new Set(ports).size !== ports.length) {
    read.problems.push(`HTTP_PORT, GRPC_PORT and GATEWAY_PORT must differ, got ${ports.join(", ")}`);
  }
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}
