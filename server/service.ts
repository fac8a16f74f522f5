import {
  BinaryStatusEvents,
  CommittedEventPublisher,
  SchemaRegistryClient,
  SealedDispatchQueue,
  StructuredCampaignEvents,
  StructuredStatusEvents,
  sendRequestDecoder,
} from "../consumers/index.ts";
import { ApiKeys } from "../core/api-keys/index.ts";
import {
  CampaignReports,
  CampaignSummaryRefresh,
  CampaignUnsubscribes,
} from "../core/campaign-report/index.ts";
import { Audiences, CampaignManager, SegmentManager, UploadedAudience } from "../core/campaigns/index.ts";
import { DeliveryStatsReport } from "../core/delivery-stats/index.ts";
import { DeviceManager, StoredPushTargets } from "../core/devices/index.ts";
import { InboxManager } from "../core/inbox/index.ts";
import type { Logger } from "../core/logger.ts";
import { PreferenceManager, StoredReceivePolicy, UnsubscribeLinks } from "../core/preferences/index.ts";
import {
  EarlyReports,
  MessageReader,
  type Provider,
  ProviderFeedback,
  SendOrchestrator,
} from "../core/sending/index.ts";
import { SuppressionManager } from "../core/suppressions/index.ts";
import { StoredSendableTemplates, TemplateCatalog, TemplateCompiler } from "../core/templates/index.ts";
import { EmailTracking, TrackingHits, TrackingLinks } from "../core/tracking/index.ts";
import {
  ApnsProvider,
  FcmProvider,
  InAppProvider,
  Pop3Mailbox,
  type ProviderGateSettings,
  ProviderRegistry,
  parseSmsRuCallback,
  parseUnisenderGoWebhook,
  routedHttpsAgent,
  type SinkOptions,
  SinkProvider,
  SmscProvider,
  SmscStatusPoller,
  SmsRuProvider,
  SmtpBounceReader,
  SmtpEmailProvider,
  UnisenderGoProvider,
} from "../dispatch/index.ts";
import { createInboxPage } from "../gateway-ws/index.ts";
import { SegmentService } from "../gen/platform/notification/v1/segment_service_pb.ts";
import {
  ClickHouseCampaignReportQueries,
  ClickHouseCampaignUnsubscribes,
  ClickHouseDeliveryStatsQueries,
} from "../stats/index.ts";
import {
  AnalyticsAudience,
  CachedPreferenceStore,
  CachedTemplateStore,
  CampaignRepository,
  createAnalyticsClient,
  DeviceRepository,
  InvalidationSubscriber,
  PostgresApiKeyStore,
  PostgresCampaignMessageCounts,
  PostgresCampaignMessages,
  PostgresCampaignOutcomes,
  PostgresCampaignSummaries,
  PostgresDueSends,
  PostgresInboxStore,
  PostgresMessageQueries,
  PostgresOutboxFeed,
  PostgresSendProgress,
  PostgresSuppressionStore,
  PostgresTrackedMessages,
  PostgresUnitOfWork,
  PreferenceRepository,
  ProviderStatusBoard,
  RecipientCipher,
  RedisLiveInboxFeed,
  RedisLiveInboxPublisher,
  SegmentRepository,
  TemplateRepository,
} from "../storage/index.ts";
import { createApiHandler } from "./api/api-handler.ts";
import { callRecordingInterceptor, createCallRecorder } from "./api/call-recording.ts";
import { errorMappingInterceptor, writeRouteNotFound } from "./api/error-mapping.ts";
import { validationInterceptor } from "./api/validation-interceptor.ts";
import { checkAccessPolicies } from "./auth/access-policy.ts";
import { authenticateEarly, authenticationInterceptor } from "./auth/authentication-interceptor.ts";
import { createAuthenticator } from "./auth/authenticator.ts";
import { authorizationInterceptor } from "./auth/authorization-interceptor.ts";
import { plainEndpointAccess } from "./auth/plain-endpoint-access.ts";
import { preferenceCache, templateCache } from "./caches.ts";
import { createCampaignReportPage } from "./campaigns/campaign-report-page.ts";
import type { Config } from "./config.ts";
import { registerEventSchemas } from "./event-schemas.ts";
import { createUnsubscribeEndpoint } from "./feedback/one-click-unsubscribe.ts";
import { createWebhookEndpoint, type WebhookReader } from "./feedback/provider-webhooks.ts";
import { createTrackingEndpoint } from "./feedback/tracking-endpoints.ts";
import { createInboxGateway } from "./gateway.ts";
import { dependencyProbes } from "./health/dependency-probes.ts";
import { HealthMonitor } from "./health/health-monitor.ts";
import { type RequestHandler, type RunningServer, startH2cServer, startHttp1Server } from "./http-servers.ts";
import { type Infrastructure, openInfrastructure } from "./infrastructure.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { ThreadParser } from "./mustache/thread-parser.ts";
import { createOpsEndpoints } from "./ops-endpoints.ts";
import type { ProviderSettings } from "./provider-config.ts";
import type { ConfiguredProvider } from "./providers/provider.service.ts";
import { PUBLIC_SERVICES } from "./reflection/reflection.service.ts";
import { retrying } from "./retrying.ts";
import { createSegmentUploadEndpoint } from "./segments/segment-upload-endpoint.ts";
import { createProviderGates, type StatusPoller, startWorker } from "./worker.ts";

export interface RunningService {
  servers: RunningServer[];
  /** Stops intake, lets in-flight work finish until the deadline, closes clients. True when nothing was cut short. */
  stop(): Promise<boolean>;
}

/**
 * The domain's use cases over their stores, built once per process whatever its roles: the
 * API and the worker share the same stores, caches and template compiler.
 */
function buildDomain(
  config: Config,
  infra: Infrastructure,
  invalidations: InvalidationSubscriber,
  metrics: Metrics,
  logger: Logger,
  signal: AbortSignal,
) {
  const apiKeyStore = new PostgresApiKeyStore(infra.orm);
  // One compiler and one parser thread per process: the send pipeline is to take this same
  // compiler, so a version parsed for a preview is not parsed again to be sent.
  const templateParser = new ThreadParser({ logger: logger.child({ component: "template-parser" }) });
  const templateCompiler = new TemplateCompiler({ parser: templateParser });
  const templateStore = new CachedTemplateStore(
    new TemplateRepository(infra.orm),
    templateCache(infra, invalidations, metrics, logger),
  );
  const preferenceRepository = new PreferenceRepository(infra.orm);
  const preferenceStore = new CachedPreferenceStore(
    preferenceRepository,
    preferenceCache(infra, invalidations, metrics, logger),
  );
  const deviceStore = new DeviceRepository(infra.orm);
  const keys = config.recipientKeys;
  const cipher = new RecipientCipher(keys.current, keys.older, keys.lookupSecret);
  const unitOfWork = new PostgresUnitOfWork(infra.orm, cipher);
  const statusEvents =
    config.eventsFormat === "json"
      ? new StructuredStatusEvents()
      : new BinaryStatusEvents(config.eventsFormat);
  const dispatchQueue = new SealedDispatchQueue(cipher);
  const unsubscribeLinks = config.linkSigningKey
    ? new UnsubscribeLinks(config.linkSigningKey, config.publicBaseUrl, (userId) =>
        preferenceStore.keeps(userId),
      )
    : undefined;
  const suppressionStore = new PostgresSuppressionStore(infra.orm, cipher);
  const preferences = new PreferenceManager(preferenceStore);
  const providerFeedback = new ProviderFeedback({
    unitOfWork,
    statusEvents,
    suppressions: suppressionStore,
    devices: deviceStore,
    preferences,
  });
  // Webhooks and inbox acks may report a message before its send is recorded.
  const earlyReports = new EarlyReports({
    feedback: providerFeedback,
    logger: logger.child({ component: "provider-feedback" }),
  });
  const tracking = trackingOf(config, infra, providerFeedback);
  const inboxStore = new PostgresInboxStore(infra.orm);
  const liveInbox = new RedisLiveInboxPublisher(infra.redis);
  const outboxFeed = new PostgresOutboxFeed(infra.orm, config.outbox.graceMs);
  // What a transaction of this process enqueues, this process publishes at once.
  const publisher = new CommittedEventPublisher(infra.kafkaProducer, outboxFeed, {
    batchSize: config.outbox.batchSize,
    maxPending: 50_000,
    maxAgeMs: config.outbox.graceMs / 2,
    logger: logger.child({ component: "committed-event-publisher" }),
  });
  unitOfWork.afterCommit(publisher.committed);
  const schemaRegistry = new SchemaRegistryClient({
    url: infra.schemaRegistryUrl,
    timeoutMs: config.healthProbeTimeoutMs,
  });
  const segmentStore = new SegmentRepository(infra.orm);
  // A campaign's audience: segments uploaded here, and the Analytics Service's when configured.
  const audiences = new Audiences({
    upload: new UploadedAudience(segmentStore),
    ...(config.analytics
      ? {
          analytics: new AnalyticsAudience(
            createAnalyticsClient({ ...config.analytics, logger: logger.child({ component: "analytics" }) }),
          ),
        }
      : {}),
  });
  const campaignStore = new CampaignRepository(infra.orm, publisher.committed);
  const campaignEvents = new StructuredCampaignEvents();
  const campaignReportQueries = new ClickHouseCampaignReportQueries(infra.clickhouse);
  const campaigns = new CampaignManager({
    store: campaignStore,
    templates: templateStore,
    events: campaignEvents,
    audiences,
  });
  return {
    apiKeyStore,
    templateParser,
    unsubscribeLinks,
    trackingHits: tracking?.hits,
    useCases: {
      apiKeys: new ApiKeys(apiKeyStore),
      templates: new TemplateCatalog(templateStore, config.templateRender, templateCompiler),
      preferences,
      suppressions: new SuppressionManager(suppressionStore),
      devices: new DeviceManager(deviceStore),
      messages: new MessageReader(new PostgresMessageQueries(infra.orm, cipher)),
      deliveryStats: new DeliveryStatsReport(new ClickHouseDeliveryStatsQueries(infra.clickhouse)),
      inbox: new InboxManager({
        store: inboxStore,
        live: liveInbox,
        feedback: earlyReports,
        logger: logger.child({ component: "inbox" }),
      }),
      campaigns,
      campaignReports: new CampaignReports({
        campaigns,
        queries: campaignReportQueries,
      }),
      segments: new SegmentManager(segmentStore),
    },
    sending: {
      orchestrator: new SendOrchestrator({
        unitOfWork,
        templates: new StoredSendableTemplates(templateStore),
        receivePolicy: new StoredReceivePolicy(preferenceStore, preferenceRepository),
        pushTargets: new StoredPushTargets(deviceStore),
        compiler: templateCompiler,
        renderLimits: config.templateRender,
        statusEvents,
        dispatchQueue,
        suppressions: suppressionStore,
        ...(unsubscribeLinks ? { unsubscribeLinks } : {}),
        ...(tracking ? { tracking: tracking.emails } : {}),
        ...(config.campaigns.frequencyCap
          ? {
              frequencyCap: {
                cap: config.campaigns.frequencyCap,
                counts: new PostgresCampaignMessageCounts(infra.orm),
              },
            }
          : {}),
      }),
      unitOfWork,
      campaignRuns: {
        runs: campaignStore,
        audiences,
        templates: templateStore,
        events: campaignEvents,
        outcomes: new PostgresCampaignOutcomes(infra.orm),
      },
      campaignSummaries: new CampaignSummaryRefresh({
        summaries: new PostgresCampaignSummaries(infra.orm),
        queries: campaignReportQueries,
      }),
      dueSends: new PostgresDueSends(infra.orm, cipher),
      dispatchQueue,
      statusEvents,
      providers: new ProviderRegistry([
        ...config.providers.map(createProvider),
        ...(sinkServesInApp(config.sink) ? [] : [new InAppProvider({ inbox: inboxStore, live: liveInbox })]),
        ...(config.sink.enabled && config.sink.channels.length > 0
          ? [new SinkProvider(sinkOptions(config.sink))]
          : []),
      ]),
      providerGates: providerGateSettings(config),
      statusPollers: config.providers.flatMap((provider) => statusPollersOf(provider, metrics)),
      providerFeedback,
      earlyReports,
      outboxFeed,
      publisher,
      producerConnected: retrying("the Kafka producer", logger, signal, () => infra.kafkaProducer.connect()),
      schemasRegistered: registerEventSchemas(schemaRegistry, statusEvents, logger, signal),
      decodeSendRequest: sendRequestDecoder({
        registry: schemaRegistry,
        maxBytes: config.pipeline.requestMaxBytes,
      }),
    },
  };
}

/** Open and click tracking where its key is set: the orchestrator's rewriting, and the api role's counting. */
function trackingOf(config: Config, infra: Infrastructure, feedback: ProviderFeedback) {
  if (!config.tracking) return undefined;
  const links = new TrackingLinks(config.tracking.signingKey, config.publicBaseUrl);
  return {
    emails: new EmailTracking(links),
    hits: new TrackingHits({
      links,
      messages: new PostgresTrackedMessages(infra.orm),
      feedback,
      countingWindowMs: config.tracking.linkTtlDays * 86_400_000,
    }),
  };
}

function createProvider(settings: ProviderSettings): Provider {
  switch (settings.kind) {
    case "smtp":
      return new SmtpEmailProvider(settings.smtp);
    case "unisender_go":
      return new UnisenderGoProvider(settings.unisenderGo);
    case "smsru":
      return new SmsRuProvider(settings.smsRu);
    case "smsc":
      return new SmscProvider(settings.smsc);
    case "fcm":
      return new FcmProvider({
        ...settings.fcm,
        ...(settings.routeTo ? { httpAgent: routedHttpsAgent(settings.routeTo) } : {}),
      });
    case "apns":
      return new ApnsProvider(settings.apns);
  }
}

/** How a provider that calls nobody back is polled: SMSC asked, an SMTP slot's bounce mailbox read. */
function statusPollersOf(settings: ProviderSettings, metrics: Metrics): StatusPoller[] {
  const provider = settings.name;
  switch (settings.kind) {
    case "smsc": {
      const poller = new SmscStatusPoller(settings.smsc);
      return [
        {
          provider,
          poll: async ({ awaitingReport, apply }) => {
            const items = await awaitingReport();
            const outcome = await apply(await poller.poll(items));
            // Left out of the poll: sealed with a key no longer configured, or changed.
            const unopened = items.filter((item) => item.recipient === null).length;
            return items.length > 0
              ? { asked: items.length, ...(unopened > 0 ? { unopened } : {}), ...outcome }
              : undefined;
          },
        },
      ];
    }
    case "smtp": {
      if (!settings.bounceMailbox) return [];
      const reader = new SmtpBounceReader({ provider, mailbox: new Pop3Mailbox(settings.bounceMailbox) });
      return [
        {
          provider,
          poll: async ({ apply }) => {
            const round = await reader.read(apply);
            if (round.reports > 0)
              metrics.feedback.bounceMail.inc({ provider, outcome: "report" }, round.reports);
            for (const [outcome, count] of Object.entries(round.ignored)) {
              if (count > 0) metrics.feedback.bounceMail.inc({ provider, outcome }, count);
            }
            return round.read > 0 ? { ...round } : undefined;
          },
        },
      ];
    }
    case "unisender_go":
    case "smsru":
    case "fcm":
    case "apns":
      return [];
  }
}

/** The webhook reader of each configured provider that calls us back, by its name. */
function webhookReaders(config: Config): Map<string, WebhookReader> {
  const readers = new Map<string, WebhookReader>();
  for (const provider of config.providers) {
    switch (provider.kind) {
      case "unisender_go": {
        const { apiKey } = provider.unisenderGo;
        readers.set(provider.name, (call) => {
          const parsed = parseUnisenderGoWebhook(call.body.toString("utf8"), apiKey, provider.name);
          if ("refused" in parsed) return { refused: "bad_signature", detail: parsed.refused };
          return { reports: parsed.events.map((event) => event.report) };
        });
        break;
      }
      case "smsru": {
        const { apiId } = provider.smsRu;
        readers.set(provider.name, (call) => {
          const parsed = parseSmsRuCallback(call.body.toString("utf8"), apiId, provider.name);
          if ("refused" in parsed) return { refused: "bad_signature", detail: parsed.refused };
          // SMS.ru calls again until it reads this.
          return { reports: parsed.reports, answer: { status: 200, contentType: "text/plain", body: "100" } };
        });
        break;
      }
      case "smtp":
      case "smsc":
      case "fcm":
      case "apns":
        break;
    }
  }
  return readers;
}

/** Every provider as configured, in failover order, without its credentials. */
function providerCatalog(config: Config): ConfiguredProvider[] {
  const positions = new Map<string, number>();
  const positionIn = (channel: string) => {
    const next = (positions.get(channel) ?? 0) + 1;
    positions.set(channel, next);
    return next;
  };
  return [
    ...config.providers.map((provider) => ({
      name: provider.name,
      channels: [provider.channel],
      kind: provider.kind,
      position: positionIn(provider.channel),
      ratePerSecond: provider.ratePerSecond ?? 0,
    })),
    ...(config.sink.enabled && config.sink.channels.length > 0
      ? [
          {
            name: "sink",
            channels: config.sink.channels,
            kind: "sink",
            position: Math.min(...config.sink.channels.map(positionIn)),
            ratePerSecond: config.sink.ratePerSecond ?? 0,
          },
        ]
      : []),
  ];
}

/** Each configured provider's rate limit, by its name. */
function providerGateSettings(config: Config): Record<string, ProviderGateSettings> {
  const settings: Record<string, ProviderGateSettings> = {};
  for (const provider of config.providers) {
    if (provider.ratePerSecond) settings[provider.name] = { ratePerSecond: provider.ratePerSecond };
  }
  if (config.sink.ratePerSecond) settings.sink = { ratePerSecond: config.sink.ratePerSecond };
  return settings;
}

/** Listing in_app in SINK_CHANNELS sends in-app messages to the sink instead of the inbox. */
function sinkServesInApp(sink: Config["sink"]): boolean {
  return sink.enabled && sink.channels.includes("in_app");
}

function sinkOptions(sink: Config["sink"]): SinkOptions {
  return {
    channels: sink.channels,
    ...(sink.file ? { file: sink.file } : {}),
    failRate: sink.failRate,
    failRetryable: sink.failRetryable,
    latencyMs: sink.latencyMs,
  };
}

/** The composition root of every role: builds each part once and wires them together. */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const runs = (role: "api" | "worker" | "gateway") => config.role === role || config.role === "all";
  const infra = openInfrastructure(config, logger);
  const monitor = new HealthMonitor(dependencyProbes(infra), {
    timeoutMs: config.healthProbeTimeoutMs,
    cacheMs: 500,
    logger,
  });
  const metrics = createMetrics();
  const shutdown = new AbortController();
  const servers: RunningServer[] = [];
  // Every cache of the process listens for invalidations on this one connection.
  const invalidations = new InvalidationSubscriber(infra.redis.duplicate(), logger);

  const { apiKeyStore, templateParser, unsubscribeLinks, trackingHits, useCases, sending } = buildDomain(
    config,
    infra,
    invalidations,
    metrics,
    logger,
    shutdown.signal,
  );
  const authenticate = createAuthenticator(config.auth, apiKeyStore, logger);
  const providerBoard = new ProviderStatusBoard(infra.redis);
  const gates = runs("worker")
    ? createProviderGates(
        config,
        infra,
        sending.providerGates,
        providerBoard,
        metrics,
        logger,
        shutdown.signal,
      )
    : undefined;
  const serveOps = createOpsEndpoints(monitor, metrics, {
    readyzDetails: config.readyzDetails,
    authenticate,
    ...(gates ? { providerStates: () => gates.states() } : {}),
  });
  const api = runs("api") ? buildApi() : undefined;
  function buildApi() {
    const recordCall = createCallRecorder(logger, metrics, config.logCalls);
    return createApiHandler({
      services: {
        monitor,
        healthWatchIntervalMs: config.healthWatchIntervalMs,
        ...useCases,
        orchestrator: sending.orchestrator,
        sendProgress: new PostgresSendProgress(infra.orm),
        providers: { catalog: providerCatalog(config), board: providerBoard },
      },
      interceptors: [
        callRecordingInterceptor(recordCall),
        errorMappingInterceptor(logger),
        authenticationInterceptor(authenticate),
        authorizationInterceptor(PUBLIC_SERVICES),
        validationInterceptor(),
      ],
      // The same authenticator, run before a REST body is read; the interceptor takes its result.
      beforeRestBody: authenticateEarly(authenticate, PUBLIC_SERVICES),
      recordRefusal: recordCall,
      plainEndpoints: [
        createCampaignReportPage(),
        createSegmentUploadEndpoint({
          segments: useCases.segments,
          // Whoever may create a segment may fill it: its roles are CreateSegment's, in the proto.
          authorize: plainEndpointAccess(authenticate, SegmentService.method.createSegment, PUBLIC_SERVICES),
          uploadsPerProcess: config.segments.uploadsPerProcess,
          logger: logger.child({ component: "segment-upload" }),
        }),
        createWebhookEndpoint({
          readers: webhookReaders(config),
          feedback: sending.earlyReports,
          metrics: {
            accepted: (provider, reports) => metrics.feedback.webhookReports.inc({ provider }, reports),
            refused: (reason) => metrics.feedback.refused.inc({ endpoint: "webhook", reason }),
          },
          logger: logger.child({ component: "webhooks" }),
        }),
        ...(unsubscribeLinks
          ? [
              createUnsubscribeEndpoint({
                links: unsubscribeLinks,
                preferences: useCases.preferences,
                campaigns: new CampaignUnsubscribes({
                  messages: new PostgresCampaignMessages(infra.orm),
                  records: new ClickHouseCampaignUnsubscribes(infra.clickhouse),
                }),
                metrics: {
                  unsubscribed: () => metrics.feedback.unsubscribes.inc(),
                  refused: (reason) => metrics.feedback.refused.inc({ endpoint: "unsubscribe", reason }),
                },
                logger: logger.child({ component: "unsubscribe" }),
              }),
            ]
          : []),
        ...(trackingHits
          ? [
              createTrackingEndpoint({
                hits: trackingHits,
                metrics: {
                  served: (kind, outcome) => metrics.feedback.trackingHits.inc({ kind, outcome }),
                  refused: (reason) => metrics.feedback.refused.inc({ endpoint: "tracking", reason }),
                },
                logger: logger.child({ component: "tracking" }),
              }),
            ]
          : []),
      ],
      requestMaxBytes: config.http.requestMaxBytes,
      shutdownSignal: shutdown.signal,
      logger,
    });
  }
  // A routed method with a malformed access policy stops the start, not a call later.
  if (api) checkAccessPolicies(api.handlers, PUBLIC_SERVICES);

  // Every HTTP/1.1 listener answers the ops endpoints first; what else it serves depends on its role.
  const withOps =
    (next: RequestHandler): RequestHandler =>
    async (request, response) => {
      if (!(await serveOps(request, response))) await next(request, response);
    };
  const nothingElse: RequestHandler = async (request, response) =>
    writeRouteNotFound(response, request.method, request.url?.split("?", 1)[0] ?? "");

  servers.push(
    await startHttp1Server(
      "http",
      config.http.host,
      config.http.port,
      withOps(api?.serve ?? nothingElse),
      logger,
    ),
  );
  if (api) {
    servers.push(await startH2cServer("grpc", config.http.host, config.http.grpcPort, api.serve, logger));
  }
  const worker = gates
    ? startWorker(
        config,
        infra,
        { ...sending, campaigns: useCases.campaigns, gates },
        metrics,
        logger,
        shutdown.signal,
      )
    : undefined;
  if (runs("gateway")) {
    const gateway = createInboxGateway(
      config,
      useCases.inbox,
      new RedisLiveInboxFeed(infra.redis.duplicate(), logger.child({ component: "live-inbox" })),
      metrics,
      logger,
    );
    const serveInboxPage = createInboxPage();
    const server = await startHttp1Server(
      "gateway",
      config.http.host,
      config.gateway.port,
      withOps(async (request, response) => {
        if (!serveInboxPage(request, response)) await nothingElse(request, response);
      }),
      logger,
      (request, socket, head) => gateway.handleUpgrade(request, socket, head),
    );
    servers.push({
      ...server,
      // Clients are told to reconnect elsewhere before the listener closes.
      async drain(deadline) {
        const closed = await gateway.drain(deadline);
        return (await server.drain(deadline)) && closed;
      },
    });
  }

  return {
    servers,
    async stop() {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      monitor.beginDraining();
      shutdown.abort();
      const drained = await Promise.all(servers.map((server) => server.drain(deadline)));
      await worker?.stop(deadline);
      await sending.publisher.stop();
      await templateParser.close();
      invalidations.close();
      await infra.close();
      return drained.every(Boolean);
    },
  };
}
