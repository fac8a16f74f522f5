import { ApiKeys } from "../core/api-keys/index.ts";
import { DeviceManager } from "../core/devices/index.ts";
import type { Logger } from "../core/logger.ts";
import { PreferenceManager } from "../core/preferences/index.ts";
import { MessageReader } from "../core/sending/index.ts";
import { TemplateCatalog, TemplateCompiler } from "../core/templates/index.ts";
import {
  CachedPreferenceStore,
  CachedTemplateStore,
  DeviceRepository,
  InvalidationSubscriber,
  PostgresApiKeyStore,
  PostgresMessageQueries,
  PreferenceRepository,
  RecipientCipher,
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
import { preferenceCache, templateCache } from "./caches.ts";
import type { Config, RecipientKeys } from "./config.ts";
import { dependencyProbes } from "./health/dependency-probes.ts";
import { HealthMonitor } from "./health/health-monitor.ts";
import { type RequestHandler, type RunningServer, startH2cServer, startHttp1Server } from "./http-servers.ts";
import { type Infrastructure, openInfrastructure } from "./infrastructure.ts";
import { UNCONFIGURED_MESSAGE_QUERIES } from "./messages/unconfigured-message-queries.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { ThreadParser } from "./mustache/thread-parser.ts";
import { createOpsEndpoints } from "./ops-endpoints.ts";
import { PUBLIC_SERVICES } from "./reflection/reflection.service.ts";
import { startWorker } from "./worker.ts";

export interface RunningService {
  servers: RunningServer[];
  /** Stops intake, lets in-flight work finish until the deadline, closes clients. True when nothing was cut short. */
  stop(): Promise<boolean>;
}

/**
 * The domain's use cases over their stores, built once per process whatever its roles:
 * the API serves them now, the worker's orchestrator will read templates and preferences.
 */
function buildDomain(
  config: Config,
  infra: Infrastructure,
  invalidations: InvalidationSubscriber,
  metrics: Metrics,
  logger: Logger,
) {
  const apiKeyStore = new PostgresApiKeyStore(infra.orm);
  // One compiler and one parser thread per process: the send pipeline is to take this same
  // compiler, so a version parsed for a preview is not parsed again to be sent.
  const templateParser = new ThreadParser({ logger: logger.child({ component: "template-parser" }) });
  const templateCompiler = new TemplateCompiler({ parser: templateParser });
  return {
    apiKeyStore,
    templateParser,
    apiKeys: new ApiKeys(apiKeyStore),
    templates: new TemplateCatalog(
      new CachedTemplateStore(
        new TemplateRepository(infra.orm),
        templateCache(infra, invalidations, metrics, logger),
      ),
      config.templateRender,
      templateCompiler,
    ),
    preferences: new PreferenceManager(
      new CachedPreferenceStore(
        new PreferenceRepository(infra.orm),
        preferenceCache(infra, invalidations, metrics, logger),
      ),
    ),
    devices: new DeviceManager(new DeviceRepository(infra.orm)),
    messages: new MessageReader(
      config.recipientKeys
        ? new PostgresMessageQueries(infra.orm, recipientCipher(config.recipientKeys))
        : UNCONFIGURED_MESSAGE_QUERIES,
    ),
  };
}

function recipientCipher(keys: RecipientKeys): RecipientCipher {
  const [current, ...older] = keys.keys;
  // loadConfig refuses a RECIPIENT_KEYS without a valid key.
  if (!current) throw new Error("RECIPIENT_KEYS holds no key");
  return new RecipientCipher(current, older, keys.lookupSecret);
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

  const { apiKeyStore, templateParser, ...useCases } = buildDomain(
    config,
    infra,
    invalidations,
    metrics,
    logger,
  );
  const authenticate = createAuthenticator(config.auth, apiKeyStore, logger);
  const serveOps = createOpsEndpoints(monitor, metrics, {
    readyzDetails: config.readyzDetails,
    authenticate,
  });
  const api = runs("api") ? buildApi() : undefined;
  function buildApi() {
    if (!config.recipientKeys) {
      logger.warn(
        {},
        "RECIPIENT_KEYS and RECIPIENT_LOOKUP_KEY are not set: MessageService answers unavailable",
      );
    }
    const recordCall = createCallRecorder(logger, metrics, config.logCalls);
    return createApiHandler({
      services: {
        monitor,
        healthWatchIntervalMs: config.healthWatchIntervalMs,
        ...useCases,
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
  const worker = runs("worker") ? startWorker(config, infra, metrics, logger, shutdown.signal) : undefined;
  if (runs("gateway")) {
    servers.push(
      await startHttp1Server("gateway", config.http.host, config.gateway.port, withOps(nothingElse), logger),
    );
  }

  return {
    servers,
    async stop() {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      monitor.beginDraining();
      shutdown.abort();
      const drained = await Promise.all(servers.map((server) => server.drain(deadline)));
      await worker?.stop(deadline);
      await templateParser.close();
      invalidations.close();
      await infra.close();
      return drained.every(Boolean);
    },
  };
}
