import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../server/config.ts";

const VALID = {
  DATABASE_URL: "postgres://u:secret@127.0.0.1:5432/db",
  REDIS_URL: "redis://127.0.0.1:6379",
  KAFKA_BROKERS: "127.0.0.1:9092,kafka-2:9092",
  SCHEMA_REGISTRY_URL: "http://127.0.0.1:8081",
  CLICKHOUSE_URL: "http://127.0.0.1:8123",
  RECIPIENT_KEY_ID: "k1",
  RECIPIENT_KEY: Buffer.alloc(32, 1).toString("base64"),
  RECIPIENT_LOOKUP_KEY: Buffer.alloc(32, 2).toString("base64"),
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("loadConfig", () => {
  it("reads a complete environment with defaults for the optional variables", () => {
    const config = loadConfig(VALID);
    expect(config.role).toBe("all");
    expect(config.http).toEqual({ host: "127.0.0.1", port: 8080, grpcPort: 8081, requestMaxBytes: 1048576 });
    expect(config.kafka.brokers).toEqual(["127.0.0.1:9092", "kafka-2:9092"]);
  });

  it("turns email tracking on with its signing key only, its links counting 90 days by default", () => {
    expect(loadConfig(VALID).tracking).toBeUndefined();
    const key = Buffer.alloc(32, 3).toString("base64");
    expect(loadConfig({ ...VALID, TRACKING_SIGNING_KEY: key }).tracking).toEqual({
      signingKey: Buffer.alloc(32, 3),
      linkTtlDays: 90,
    });
    expect(
      loadConfig({ ...VALID, TRACKING_SIGNING_KEY: key, TRACKING_LINK_TTL_DAYS: "7" }).tracking?.linkTtlDays,
    ).toBe(7);
    expect(problemsOf({ ...VALID, TRACKING_SIGNING_KEY: Buffer.alloc(16).toString("base64") })).toEqual([
      "TRACKING_SIGNING_KEY must be at least 32 bytes in base64",
    ]);
  });

  it("reads how often workers look for due campaigns: by default often enough to start one within a second", () => {
    expect(loadConfig(VALID).campaigns).toEqual({
      pollMs: 250,
      ratePerSecond: 1000,
      pageSize: 1000,
      frequencyCap: null,
    });
    expect(loadConfig({ ...VALID, CAMPAIGN_POLL_MS: "100" }).campaigns.pollMs).toBe(100);
    expect(problemsOf({ ...VALID, CAMPAIGN_POLL_MS: "5" })).toEqual([
      'CAMPAIGN_POLL_MS must be an integer from 10 to 60000, got "5"',
    ]);
  });

  it("reads the campaign runner's total rate and page size", () => {
    expect(
      loadConfig({ ...VALID, CAMPAIGN_RATE_PER_SECOND: "50", CAMPAIGN_PAGE_SIZE: "200" }).campaigns,
    ).toMatchObject({ ratePerSecond: 50, pageSize: 200 });
    expect(problemsOf({ ...VALID, CAMPAIGN_RATE_PER_SECOND: "0" })).toEqual([
      'CAMPAIGN_RATE_PER_SECOND must be an integer from 1 to 1000000, got "0"',
    ]);
  });

  it("reads the campaigns' frequency cap as messages per window, 0 for none", () => {
    expect(loadConfig({ ...VALID, CAMPAIGN_FREQUENCY_CAP: "2/24h" }).campaigns.frequencyCap).toEqual({
      messages: 2,
      windowMs: 86_400_000,
    });
    expect(loadConfig({ ...VALID, CAMPAIGN_FREQUENCY_CAP: "0" }).campaigns.frequencyCap).toBeNull();
    expect(problemsOf({ ...VALID, CAMPAIGN_FREQUENCY_CAP: "2 a day" })).toEqual([
      'CAMPAIGN_FREQUENCY_CAP must be "0" or <messages>/<window> with the window in m, h or d (e.g. "2/24h"), got "2 a day"',
    ]);
  });

  it("reads the Analytics Service only when ANALYTICS_URL names it, and bounds segment uploads per process", () => {
    expect(loadConfig(VALID).analytics).toBeUndefined();
    expect(loadConfig(VALID).segments).toEqual({ uploadsPerProcess: 2 });
    expect(loadConfig({ ...VALID, ANALYTICS_URL: "https://analytics.internal:8443" }).analytics).toEqual({
      url: "https://analytics.internal:8443",
      timeoutMs: 5_000,
      attempts: 4,
    });
    expect(
      loadConfig({
        ...VALID,
        ANALYTICS_URL: "http://127.0.0.1:2600",
        ANALYTICS_TIMEOUT_MS: "250",
        ANALYTICS_ATTEMPTS: "2",
        ANALYTICS_TOKEN: "secret-token",
        SEGMENT_UPLOADS_PER_PROCESS: "4",
      }),
    ).toMatchObject({
      analytics: { url: "http://127.0.0.1:2600", timeoutMs: 250, attempts: 2, token: "secret-token" },
      segments: { uploadsPerProcess: 4 },
    });
    expect(
      problemsOf({
        ...VALID,
        ANALYTICS_URL: "grpc://analytics",
        ANALYTICS_ATTEMPTS: "0",
        ANALYTICS_TOKEN: "t",
      }),
    ).toEqual([
      'ANALYTICS_URL must use http: or https:, got "grpc:"',
      'ANALYTICS_ATTEMPTS must be an integer from 1 to 10, got "0"',
    ]);
  });

  it("keeps /readyz details off unless READYZ_DETAILS turns them on", () => {
    expect(loadConfig(VALID).readyzDetails).toBe(false);
    expect(loadConfig({ ...VALID, READYZ_DETAILS: "true" }).readyzDetails).toBe(true);
    expect(loadConfig({ ...VALID, READYZ_DETAILS: "0" }).readyzDetails).toBe(false);
    expect(problemsOf({ ...VALID, READYZ_DETAILS: "yes please" })).toEqual([
      'READYZ_DETAILS must be true or false, got "yes please"',
    ]);
  });

  it("reads the template render limits, with defaults that bound every render", () => {
    expect(loadConfig(VALID).templateRender).toEqual({
      maxSectionDepth: 16,
      maxOutputBytes: 524288,
      maxSteps: 50000,
    });
    const set = loadConfig({
      ...VALID,
      TEMPLATE_MAX_SECTION_DEPTH: "8",
      TEMPLATE_RENDER_MAX_OUTPUT_BYTES: "262144",
      TEMPLATE_RENDER_MAX_STEPS: "50000",
    });
    expect(set.templateRender).toEqual({ maxSectionDepth: 8, maxOutputBytes: 262144, maxSteps: 50000 });
    expect(
      problemsOf({ ...VALID, TEMPLATE_MAX_SECTION_DEPTH: "0", TEMPLATE_RENDER_MAX_STEPS: "lots" }),
    ).toEqual([
      'TEMPLATE_MAX_SECTION_DEPTH must be an integer from 1 to 100, got "0"',
      'TEMPLATE_RENDER_MAX_STEPS must be an integer from 100 to 100000000, got "lots"',
    ]);
  });

  it("reads the stats writer's batching, bound and backoff, and checks they fit together", () => {
    expect(loadConfig(VALID).statsWriter).toEqual({
      batchRows: 5_000,
      flushIntervalMs: 1_000,
      quietMs: 50,
      maxBufferedRows: 100_000,
      retryInitialMs: 200,
      retryMaxMs: 30_000,
    });
    expect(
      loadConfig({ ...VALID, STATS_BATCH_ROWS: "500", STATS_FLUSH_INTERVAL_MS: "250", STATS_QUIET_MS: "20" })
        .statsWriter,
    ).toMatchObject({
      batchRows: 500,
      flushIntervalMs: 250,
      quietMs: 20,
    });
    expect(
      problemsOf({
        ...VALID,
        STATS_BATCH_ROWS: "2000",
        STATS_MAX_BUFFERED_ROWS: "1000",
        STATS_RETRY_MAX_MS: "100",
      }),
    ).toEqual([
      "STATS_MAX_BUFFERED_ROWS (1000) must be at least STATS_BATCH_ROWS (2000)",
      "STATS_RETRY_MAX_MS (100) must be at least STATS_RETRY_INITIAL_MS (200)",
    ]);
  });

  it("logs failed calls only unless LOG_CALLS asks for more", () => {
    expect(loadConfig(VALID).logCalls).toEqual({ successSampleRate: 0 });
    expect(loadConfig({ ...VALID, LOG_CALLS: "all" }).logCalls).toEqual({ successSampleRate: 1 });
    expect(loadConfig({ ...VALID, LOG_CALLS: "0.01" }).logCalls).toEqual({ successSampleRate: 0.01 });
    for (const wrong of ["none", "1.5", "-0.1", "some"]) {
      expect(problemsOf({ ...VALID, LOG_CALLS: wrong }), wrong).toEqual([
        `LOG_CALLS must be errors, all or a fraction from 0 to 1, got "${wrong}"`,
      ]);
    }
  });

  it("takes the role from the command line over ROLE", () => {
    expect(loadConfig({ ...VALID, ROLE: "worker" }, "gateway").role).toBe("gateway");
    expect(loadConfig({ ...VALID, ROLE: "worker" }).role).toBe("worker");
  });

  it("names every missing and malformed variable at once, never a password", () => {
    const problems = problemsOf({
      ...VALID,
      REDIS_URL: undefined,
      DATABASE_URL: "mysql://u:hunter2@host/db",
      HTTP_PORT: "70000",
      LOG_LEVEL: "loud",
      KAFKA_BROKERS: "localhost",
    });
    expect(problems).toEqual([
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'HTTP_PORT must be an integer from 1 to 65535, got "70000"',
      'DATABASE_URL must use postgres: or postgresql:, got "mysql:"',
      "REDIS_URL is required",
      'KAFKA_BROKERS must be host:port[,host:port…], got "localhost"',
    ]);
    expect(problems.join("\n")).not.toContain("hunter2");
  });

  it("rejects an unknown role and clashing ports", () => {
    expect(problemsOf({ ...VALID, ROLE: "everything" })).toEqual([
      'ROLE must be one of api, worker, gateway, all, got "everything"',
    ]);
    expect(problemsOf({ ...VALID, GRPC_PORT: "8080" })).toEqual([
      "HTTP_PORT, GRPC_PORT and GATEWAY_PORT must differ, got 8080, 8080, 8082",
    ]);
  });

  it("reads the recipient keys, older ones for rotation, and refuses keys of the wrong size", () => {
    const older = Buffer.alloc(32, 3).toString("base64");
    const keys = loadConfig({ ...VALID, RECIPIENT_OLD_KEYS: `k0:${older}` }).recipientKeys;
    expect(keys.current).toEqual({ id: "k1", secret: Buffer.alloc(32, 1) });
    expect(keys.older).toEqual([{ id: "k0", secret: Buffer.alloc(32, 3) }]);
    expect(keys.lookupSecret).toEqual(Buffer.alloc(32, 2));
    expect(
      problemsOf({
        ...VALID,
        RECIPIENT_KEY: Buffer.alloc(16).toString("base64"),
        RECIPIENT_OLD_KEYS: `k1:${older}`,
        RECIPIENT_LOOKUP_KEY: "c2hvcnQ=",
      }),
    ).toEqual([
      "RECIPIENT_KEY must be 32 bytes in base64, got 16 bytes",
      "RECIPIENT_KEY_ID and the ids in RECIPIENT_OLD_KEYS must all differ",
      "RECIPIENT_LOOKUP_KEY must be at least 32 bytes in base64",
    ]);
    const { RECIPIENT_KEY: _key, ...withoutKey } = VALID;
    expect(problemsOf(withoutKey)).toEqual(["RECIPIENT_KEY is required"]);
  });

  it("reads the gateway's settings, with no browser origin allowed by default", () => {
    expect(loadConfig(VALID).gateway).toMatchObject({
      port: 8082,
      allowedOrigins: [],
      maxConnectionsPerUser: 10,
    });
    expect(
      loadConfig({ ...VALID, GATEWAY_ALLOWED_ORIGINS: "https://app.example.ru, http://localhost:3000" })
        .gateway.allowedOrigins,
    ).toEqual(["https://app.example.ru", "http://localhost:3000"]);
    expect(problemsOf({ ...VALID, GATEWAY_ALLOWED_ORIGINS: "https://app.example.ru/inbox" })).toEqual([
      'GATEWAY_ALLOWED_ORIGINS must list origins like https://app.example.com (scheme and host, no path), got "https://app.example.ru/inbox"',
    ]);
  });

  it("reads the pipeline's and the sink's settings", () => {
    const config = loadConfig({
      ...VALID,
      SINK_FAIL_RATE: "0.25",
      SINK_FILE: "/tmp/sink.jsonl",
      PIPELINE_CHUNK_SIZE: "100",
    });
    // In-app messages go to the inbox unless SINK_CHANNELS lists in_app.
    expect(config.sink).toEqual({
      enabled: true,
      channels: ["email", "sms", "push_fcm", "push_apns"],
      file: "/tmp/sink.jsonl",
      failRate: 0.25,
      failRetryable: true,
      latencyMs: 0,
    });
    expect(config.pipeline.chunkSize).toBe(100);
    expect(problemsOf({ ...VALID, SINK_FAIL_RATE: "2" })).toEqual([
      "SINK_FAIL_RATE must be a number from 0 to 1",
    ]);
  });

  it("reads each channel's providers in failover order, and leaves the sink the channels none serves", () => {
    const dir = mkdtempSync(join(tmpdir(), "provider-config-"));
    writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    const config = loadConfig({
      ...VALID,
      EMAIL_PROVIDERS: "primary, backup",
      EMAIL_PROVIDER_PRIMARY_HOST: "smtp.example.ru",
      EMAIL_PROVIDER_PRIMARY_USER: "mailer",
      EMAIL_PROVIDER_PRIMARY_PASSWORD: "s3cret",
      EMAIL_PROVIDER_PRIMARY_FROM: "noreply@example.ru",
      EMAIL_PROVIDER_PRIMARY_FROM_NAME: "Платформа",
      EMAIL_PROVIDER_PRIMARY_RATE_PER_SECOND: "20",
      EMAIL_PROVIDER_BACKUP_HOST: "127.0.0.1",
      EMAIL_PROVIDER_BACKUP_SECURITY: "implicit",
      EMAIL_PROVIDER_BACKUP_FROM: "noreply@example.ru",
      EMAIL_PROVIDER_BACKUP_TLS_CA_FILE: join(dir, "ca.pem"),
      EMAIL_PROVIDER_BACKUP_TLS_SERVERNAME: "localhost",
    });
    expect(config.providers.map((provider) => [provider.name, provider.ratePerSecond])).toEqual([
      ["email-primary", 20],
      ["email-backup", undefined],
    ]);
    expect(config.providers[0]).toMatchObject({ kind: "smtp" });
    expect((config.providers[0] as { smtp: unknown }).smtp).toMatchObject({
      host: "smtp.example.ru",
      port: 587,
      security: "starttls",
      auth: { user: "mailer", password: "s3cret" },
      from: { address: "noreply@example.ru", name: "Платформа" },
    });
    expect((config.providers[1] as { smtp: unknown }).smtp).toMatchObject({
      port: 465,
      security: "implicit",
      tls: { ca: "-----BEGIN CERTIFICATE-----\n", servername: "localhost" },
    });
    expect(config.sink.channels).toEqual(["sms", "push_fcm", "push_apns"]);
    expect(loadConfig({ ...VALID, SINK_CHANNELS: "email,in_app" }).sink.channels).toEqual([
      "email",
      "in_app",
    ]);
  });

  it("names every problem of a provider's slot at once, and never a secret", () => {
    const problems = problemsOf({
      ...VALID,
      EMAIL_PROVIDERS: "primary,primary,Bad-Slot!",
      EMAIL_PROVIDER_PRIMARY_TYPE: "carrier-pigeon",
      EMAIL_PROVIDER_PRIMARY_PASSWORD: "s3cret",
      EMAIL_PROVIDER_PRIMARY_FROM: "not an address",
      EMAIL_PROVIDER_PRIMARY_DKIM_DOMAIN: "example.ru",
      EMAIL_PROVIDER_PRIMARY_TLS_CA_FILE: "/nonexistent/ca.pem",
      SINK_CHANNELS: "email,fax",
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'EMAIL_PROVIDERS must list slot names (letters, digits, _), got "bad-slot!"',
        "EMAIL_PROVIDERS names a slot twice",
        'EMAIL_PROVIDER_PRIMARY_TYPE must be one of smtp, unisender_go, got "carrier-pigeon"',
        "EMAIL_PROVIDER_PRIMARY_USER and EMAIL_PROVIDER_PRIMARY_PASSWORD go together: set both or neither",
        "EMAIL_PROVIDER_PRIMARY_HOST is required",
        'EMAIL_PROVIDER_PRIMARY_FROM must be an address, got "not an address"',
        "EMAIL_PROVIDER_PRIMARY_DKIM_DOMAIN, EMAIL_PROVIDER_PRIMARY_DKIM_SELECTOR and EMAIL_PROVIDER_PRIMARY_DKIM_PRIVATE_KEY_FILE go together: set all or none",
        'EMAIL_PROVIDER_PRIMARY_TLS_CA_FILE: cannot read "/nonexistent/ca.pem" (ENOENT)',
        'SINK_CHANNELS must list channels of email, sms, push_fcm, push_apns, in_app, got "fax"',
      ]),
    );
    expect(problems.join("\n")).not.toContain("s3cret");
  });

  it("reads an SMTP slot's bounce mailbox: pop3s or pop3 with STLS, the login percent-encoded, a CA of its own", () => {
    const dir = mkdtempSync(join(tmpdir(), "bounce-config-"));
    writeFileSync(join(dir, "pop3-ca.pem"), "-----BEGIN CERTIFICATE-----\npop3\n");
    const smtp = (slot: string) => ({
      [`EMAIL_PROVIDER_${slot}_HOST`]: "smtp.example.ru",
      [`EMAIL_PROVIDER_${slot}_FROM`]: "noreply@example.ru",
    });
    const config = loadConfig({
      ...VALID,
      EMAIL_PROVIDERS: "primary,backup,third",
      ...smtp("PRIMARY"),
      EMAIL_PROVIDER_PRIMARY_BOUNCE_MAILBOX: "pop3s://bounces%40example.ru:p%3Ass@pop.example.ru",
      EMAIL_PROVIDER_PRIMARY_BOUNCE_TLS_CA_FILE: join(dir, "pop3-ca.pem"),
      EMAIL_PROVIDER_PRIMARY_TIMEOUT_MS: "5000",
      ...smtp("BACKUP"),
      EMAIL_PROVIDER_BACKUP_BOUNCE_MAILBOX: "pop3://backup:pw@127.0.0.1:2110",
      ...smtp("THIRD"),
    });
    expect(
      config.providers.map((provider) => (provider as { bounceMailbox?: unknown }).bounceMailbox),
    ).toEqual([
      {
        name: "email-primary bounces",
        host: "pop.example.ru",
        port: 995,
        security: "implicit",
        user: "bounces@example.ru",
        password: "p:ss",
        tls: { ca: "-----BEGIN CERTIFICATE-----\npop3\n" },
        timeoutMs: 5000,
      },
      {
        name: "email-backup bounces",
        host: "127.0.0.1",
        port: 2110,
        security: "starttls",
        user: "backup",
        password: "pw",
        timeoutMs: 30_000,
      },
      undefined,
    ]);
    expect(
      (
        loadConfig({
          ...VALID,
          EMAIL_PROVIDERS: "primary",
          ...smtp("PRIMARY"),
          EMAIL_PROVIDER_PRIMARY_BOUNCE_MAILBOX: "pop3://u:p@h",
        }).providers[0] as { bounceMailbox?: { port: number } }
      ).bounceMailbox?.port,
    ).toBe(110);
  });

  it("names what is wrong with a bounce mailbox without quoting it, since it holds the password", () => {
    const problemsWith = (mailbox: string, more: Record<string, string> = {}) =>
      problemsOf({
        ...VALID,
        EMAIL_PROVIDERS: "primary",
        EMAIL_PROVIDER_PRIMARY_HOST: "smtp.example.ru",
        EMAIL_PROVIDER_PRIMARY_FROM: "noreply@example.ru",
        EMAIL_PROVIDER_PRIMARY_BOUNCE_MAILBOX: mailbox,
        ...more,
      });
    const shape =
      "EMAIL_PROVIDER_PRIMARY_BOUNCE_MAILBOX must be pop3s://user:password@host[:port] (or pop3:// for STLS)";
    expect(problemsWith("imaps://u:s3cret@imap.example.ru")).toEqual([`${shape}, got "imaps:"`]);
    expect(problemsWith("s3cret at pop.example.ru")).toEqual([`${shape}: it is not a URL`]);
    expect(problemsWith("pop3s://u:s3cret@pop.example.ru:99999")).toEqual([`${shape}: it is not a URL`]);
    expect(problemsWith("pop3s://pop.example.ru")).toEqual([
      "EMAIL_PROVIDER_PRIMARY_BOUNCE_MAILBOX needs a user and a password (percent-encoded)",
    ]);
    expect(problemsWith("pop3s://u:%E0%A4%A@pop.example.ru")).toEqual([
      "EMAIL_PROVIDER_PRIMARY_BOUNCE_MAILBOX needs a user and a password (percent-encoded)",
    ]);
    expect(problemsWith("pop3s://u:s3cret@pop.example.ru/INBOX?x=1")).toEqual([
      "EMAIL_PROVIDER_PRIMARY_BOUNCE_MAILBOX takes no path, query or fragment",
    ]);
    expect(
      problemsWith("pop3s://u:s3cret@pop.example.ru", {
        EMAIL_PROVIDER_PRIMARY_BOUNCE_TLS_CA_FILE: "/nonexistent/ca.pem",
      }),
    ).toEqual(['EMAIL_PROVIDER_PRIMARY_BOUNCE_TLS_CA_FILE: cannot read "/nonexistent/ca.pem" (ENOENT)']);
    expect(problemsWith("", { EMAIL_PROVIDER_PRIMARY_BOUNCE_TLS_CA_FILE: "/etc/ca.pem" })).toEqual([
      "EMAIL_PROVIDER_PRIMARY_BOUNCE_TLS_CA_FILE is set without EMAIL_PROVIDER_PRIMARY_BOUNCE_MAILBOX",
    ]);

    const twoSlots = problemsOf({
      ...VALID,
      EMAIL_PROVIDERS: "primary,backup,api",
      EMAIL_PROVIDER_PRIMARY_HOST: "smtp.example.ru",
      EMAIL_PROVIDER_PRIMARY_FROM: "noreply@example.ru",
      EMAIL_PROVIDER_PRIMARY_BOUNCE_MAILBOX: "pop3s://bounces:s3cret@POP.example.ru",
      EMAIL_PROVIDER_BACKUP_HOST: "smtp2.example.ru",
      EMAIL_PROVIDER_BACKUP_FROM: "noreply@example.ru",
      EMAIL_PROVIDER_BACKUP_BOUNCE_MAILBOX: "pop3s://bounces:s3cret@pop.example.ru:995",
      EMAIL_PROVIDER_API_TYPE: "unisender_go",
      EMAIL_PROVIDER_API_API_KEY: "key",
      EMAIL_PROVIDER_API_FROM: "noreply@example.ru",
      EMAIL_PROVIDER_API_BOUNCE_MAILBOX: "pop3s://bounces:s3cret@pop.example.ru",
    });
    expect(twoSlots).toEqual([
      "EMAIL_PROVIDER_API_BOUNCE_MAILBOX is for SMTP slots: Unisender Go reports bounces to its webhook",
      "EMAIL_PROVIDER_PRIMARY_BOUNCE_MAILBOX and EMAIL_PROVIDER_BACKUP_BOUNCE_MAILBOX name the same mailbox: give each SMTP slot its own, or one slot the mailbox",
    ]);
    expect(twoSlots.join("\n")).not.toContain("s3cret");
  });
});
