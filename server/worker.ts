import { hostname } from "node:os";
import type { Consumer, Kafka } from "kafkajs";
import {
  DeadLetterTopic,
  DISPATCH_TOPICS,
  dispatchJobs,
  ensureTopics,
  OutboxRelay,
  type RecordChunk,
  runBatchConsumer,
  type SealedDispatchQueue,
  type SendRequestRecordDecoder,
  sendRequestIntake,
  TOPICS,
  topicConfigs,
} from "../consumers/index.ts";
import type { CampaignSummaryRefresh } from "../core/campaign-report/index.ts";
import { type CampaignManager, CampaignRunner, type CampaignRunnerDeps } from "../core/campaigns/index.ts";
import type { Logger } from "../core/logger.ts";
import type {
  AwaitingReport,
  DueSends,
  FeedbackOutcome,
  ProviderFeedback,
  ProviderReport,
  SendOrchestrator,
  StatusEventEncoder,
  UnitOfWork,
} from "../core/sending/index.ts";
import {
  Dispatcher,
  type ProviderGateSettings,
  ProviderGates,
  type ProviderRegistry,
} from "../dispatch/index.ts";
import { type PostgresOutboxFeed, type ProviderStatusBoard, RedisSendRateLimiter } from "../storage/index.ts";
import { LimitedCampaignPace } from "./campaigns/campaign-pace.ts";
import { runCampaigns } from "./campaigns/campaign-runs.ts";
import { refreshCampaignSummaries } from "./campaigns/campaign-summaries.ts";
import { startScheduledCampaigns } from "./campaigns/scheduled-starts.ts";
import type { Config } from "./config.ts";
import type { Infrastructure } from "./infrastructure.ts";
import type { Metrics } from "./metrics.ts";
import { retrying } from "./retrying.ts";
import { sleep } from "./sleep.ts";
import { StatsFeedThread } from "./stats-feed-thread.ts";

/** What the worker is handed by the composition root: the domain's sending parts, built once per process. */
export interface WorkerDomain {
  orchestrator: SendOrchestrator;
  unitOfWork: UnitOfWork;
  dueSends: DueSends;
  dispatchQueue: SealedDispatchQueue;
  statusEvents: StatusEventEncoder;
  providers: ProviderRegistry;
  providerFeedback: ProviderFeedback;
  /** Providers asked for their messages' statuses, having no callback. */
  statusPollers: StatusPoller[];
  /** The breakers and rate limits between this process's dispatcher and each provider. */
  gates: ProviderGates;
  outboxFeed: PostgresOutboxFeed;
  /** Resolves once the process's Kafka producer is connected. */
  producerConnected: Promise<void>;
  /** Resolves once our event schemas are registered (server/event-schemas.ts). */
  schemasRegistered: Promise<void>;
  decodeSendRequest: SendRequestRecordDecoder;
  /** Starts scheduled campaigns when their time comes. */
  campaigns: Pick<CampaignManager, "startDue">;
  /** What the campaign runner works with besides the orchestrator and this process's pace. */
  campaignRuns: Omit<CampaignRunnerDeps, "orchestrator" | "pace" | "pageSize">;
  /** Keeps the campaigns' stats_summary current from ClickHouse. */
  campaignSummaries: Pick<CampaignSummaryRefresh, "refresh">;
}

/**
 * A provider whose reports are fetched, not called in: asked how its messages went (SMSC), or
 * read from where it mails them (an SMTP slot's bounce mailbox).
 */
export interface StatusPoller {
  provider: string;
  /**
   * One round, on one worker at a time: what it learns goes through `round.apply`. Answers the
   * round's counts to log (never an address), or undefined when there was nothing to do.
   */
  poll(round: StatusPollRound): Promise<Record<string, unknown> | undefined>;
}

/** What a round of polling is given. */
export interface StatusPollRound {
  /**
   * The provider's messages of the last three days still `sent` (no report yet), oldest first,
   * 500 at most: its id for each, and the recipient opened (null when it cannot be).
   */
  awaitingReport(): Promise<AwaitingReport[]>;
  /** ProviderFeedback.apply: statuses, suppressions and unsubscribes, as of a webhook's reports. */
  apply(reports: ProviderReport[]): Promise<FeedbackOutcome>;
}

// Consumer groups: every worker process of the service joins the same ones and shares the partitions.
export const CONSUMER_GROUPS = {
  intake: "notification-service.intake",
  dispatch: (priority: string) => `notification-service.dispatch.${priority}`,
  stats: "notification-service.stats",
};

/** Every consumer group a worker joins. */
export const PIPELINE_GROUP_IDS: readonly string[] = [
  CONSUMER_GROUPS.intake,
  ...Object.keys(DISPATCH_TOPICS).map(CONSUMER_GROUPS.dispatch),
  CONSUMER_GROUPS.stats,
];

/**
 * The worker role: provisions the Kafka topics, then runs the send pipeline: the intake of
 * send requests, the release of scheduled ones, a dispatcher per priority (each its own
 * consumer group, so `high` never waits behind `low`), the outbox relay, and the statistics
 * fed from the status events. Each part retries its dependencies until they answer.
 */
/**
 * The breakers and shared rate limits of this process's dispatcher, counted in metrics and
 * posted to the status board (for ProviderService) on every change and every few seconds.
 */
export function createProviderGates(
  config: Config,
  infra: Infrastructure,
  byProvider: Record<string, ProviderGateSettings>,
  board: ProviderStatusBoard,
  metrics: Metrics,
  logger: Logger,
  signal: AbortSignal,
): ProviderGates {
  const post = () =>
    board
      .post(WORKER_ID, gates.states())
      .catch((error: unknown) => logger.warn({ err: error }, "posting provider states failed"));
  const gates: ProviderGates = new ProviderGates({
    breaker: config.dispatch.breaker,
    byProvider,
    limiter: new RedisSendRateLimiter(infra.redis),
    maxSlotWaitMs: config.dispatch.maxSlotWaitMs,
    onBreakerChange: (provider, from, to) => {
      metrics.providers.breakerChanges.inc({ provider, to });
      (to === "closed" ? logger.info : logger.warn).call(
        logger,
        { provider, from, to },
        "provider circuit breaker changed",
      );
      void post();
    },
    onLimiterError: (provider, error) => {
      metrics.providers.rateLimiterErrors.inc({ provider });
      logger.warn({ provider, err: error }, "the shared rate limiter did not answer; sending without a slot");
    },
  });
  metrics.providers.observeBreakers(() => gates.states());
  const timer = setInterval(post, PROVIDER_STATES_EVERY_MS);
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  return gates;
}

// A breaker half opens by time alone: states are posted again often enough for admins to see it.
const PROVIDER_STATES_EVERY_MS = 5_000;
const WORKER_ID = `${hostname()}:${process.pid}`;

export function startWorker(
  config: Config,
  infra: Infrastructure,
  domain: WorkerDomain,
  metrics: Metrics,
  logger: Logger,
  signal: AbortSignal,
) {
  const producer = infra.kafkaProducer;
  const { outboxFeed } = domain;
  const relay = new OutboxRelay(outboxFeed, producer, {
    ...config.outbox,
    logger: logger.child({ component: "outbox-relay" }),
  });
  const statsThread = new StatsFeedThread(config, metrics.statsWriter, logger);
  metrics.pipeline.observeOutboxBacklog(() => outboxFeed.backlog());
  const consumers: Consumer[] = [];
  const { pipeline } = config;
  const batchOptions = (
    groupId: string,
    topics: string[],
    component: string,
    chunkSize = pipeline.chunkSize,
  ) => {
    const created = pipelineConsumer(infra.kafka, config, groupId);
    consumers.push(created);
    return {
      groupId,
      consumer: created,
      topics,
      chunkSize,
      partitionsConcurrently: pipeline.partitionsConcurrently,
      logger: logger.child({ component }),
      signal,
      onChunk: (topic: string, records: number) => metrics.pipeline.chunkRecords.observe({ topic }, records),
    };
  };
  const deadLetters = new DeadLetterTopic(producer, TOPICS.sendRequestsDeadLetter);
  const intake = sendRequestIntake({
    decode: domain.decodeSendRequest,
    orchestrator: domain.orchestrator,
    deadLetters,
    metrics: {
      consumed: (count) => metrics.pipeline.consumed.inc({ topic: TOPICS.sendRequests }, count),
      deadLettered: (reason, count) => metrics.pipeline.deadLettered.inc({ reason }, count),
      deduplicated: (count) => metrics.pipeline.deduplicated.inc(count),
      accepted: (count) => metrics.pipeline.accepted.inc(count),
    },
    logger: logger.child({ component: "intake" }),
  });
  const dispatcher = new Dispatcher({
    unitOfWork: domain.unitOfWork,
    providers: domain.providers,
    statusEvents: domain.statusEvents,
    queue: domain.dispatchQueue,
    concurrency: pipeline.dispatchConcurrency,
    gates: domain.gates,
    retry: config.dispatch.retry,
    onDestinationsGone: (gone) => domain.providerFeedback.destinationsGone(gone),
  });
  const dispatch = dispatchJobs({
    queue: domain.dispatchQueue,
    dispatcher,
    metrics: {
      dispatched: (channel, outcome, count) => metrics.pipeline.dispatched.inc({ channel, outcome }, count),
      undecodableRecords: (count) => metrics.pipeline.undecodableRecords.inc(count),
    },
    logger: logger.child({ component: "dispatcher" }),
    jobsPerDispatch: pipeline.chunkSize,
  });
  type Consumed = [ReturnType<typeof batchOptions>, (chunk: RecordChunk) => Promise<void>];
  const consumed: Consumed[] = [
    [batchOptions(CONSUMER_GROUPS.intake, [TOPICS.sendRequests], "intake"), intake],
    ...Object.entries(DISPATCH_TOPICS).map(
      ([priority, topic]): Consumed => [
        batchOptions(CONSUMER_GROUPS.dispatch(priority), [topic], `dispatch-${priority}`),
        dispatch,
      ],
    ),
  ];
  const topics = topicConfigs(config.kafka.topicPartitions, config.kafka.replicationFactor);
  const groups = [...consumed.map(([options]) => options.groupId), CONSUMER_GROUPS.stats];
  metrics.pipeline.observeConsumerLag(() => consumerLag(infra, groups));

  let parts: Promise<void>[] = [];
  // Topics, schemas, producer, then every consumer group joined at once. Resolves when that
  // is done or given up for a stop: a consumer must not join after the stop disconnected
  // the others, or its membership would outlive the process and hold up the next worker's
  // join for a whole session timeout.
  const started = (async () => {
    await retrying("Kafka topics", logger, signal, async () => {
      await infra.kafkaAdmin.connect();
      const created = await ensureTopics(infra.kafkaAdmin, topics);
      logger.info({ created, topics: topics.map((topic) => topic.topic) }, "Kafka topics ready");
    });
    await domain.schemasRegistered;
    await domain.producerConnected;
    if (signal.aborted) return;
    parts = [
      relay.run(signal),
      releaseDueSends(domain, config, metrics, logger, signal),
      startScheduledCampaigns(
        domain.campaigns,
        config.campaigns.pollMs,
        logger.child({ component: "campaign-starts" }),
        signal,
      ),
      runCampaigns(
        new CampaignRunner({
          ...domain.campaignRuns,
          orchestrator: domain.orchestrator,
          pace: new LimitedCampaignPace(
            new RedisSendRateLimiter(infra.redis, "notification:campaign-rate:"),
            config.campaigns.ratePerSecond,
            signal,
          ),
          pageSize: config.campaigns.pageSize,
        }),
        config.campaigns.pollMs,
        logger.child({ component: "campaign-runner" }),
        signal,
      ),
      refreshCampaignSummaries(
        domain.campaignSummaries,
        logger.child({ component: "campaign-summaries" }),
        signal,
      ),
      ...domain.statusPollers.map((poller) => pollStatuses(poller, domain, infra, config, logger, signal)),
    ];
    await Promise.all([
      ...consumed.map(([options, handle]) =>
        retrying(`the consumer group ${options.groupId}`, logger, signal, () =>
          runBatchConsumer(options, handle),
        ),
      ),
      statsThread.start(),
    ]);
    if (!signal.aborted) logger.info({ groups }, "send pipeline consuming");
  })();
  return {
    /** Stops intake and dispatch first, then flushes their statistics before `deadline` (epoch ms). */
    async stop(deadline: number): Promise<void> {
      await started;
      await Promise.allSettled(consumers.map((each) => each.disconnect()));
      await Promise.all(parts);
      await statsThread.stop(deadline);
      await domain.providers
        .close()
        .catch((error: unknown) => logger.warn({ err: error }, "closing providers failed"));
    },
  };
}

/** A consumer of one of the pipeline's groups, as every part of the worker makes them. */
export function pipelineConsumer(kafka: Kafka, config: Config, groupId: string): Consumer {
  return kafka.consumer({
    groupId,
    // A fetch returns as soon as a record arrives, whatever this says: it is only how often an
    // idle group asks again. At 50 ms the idle priorities and groups kept the broker answering
    // empty fetches; p99 at 1,000 sends/s went from 242–348 ms to 174–256 ms.
    maxWaitTimeInMs: 500,
    allowAutoTopicCreation: false,
    sessionTimeout: config.kafka.sessionTimeoutMs,
    heartbeatInterval: Math.floor(config.kafka.sessionTimeoutMs / 10),
  });
}

/** Releases due scheduled sends every poll, back to back while there are more. */
async function releaseDueSends(
  domain: WorkerDomain,
  config: Config,
  metrics: Metrics,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const { schedulePollMs, scheduleBatchSize } = config.pipeline;
  let failures = 0;
  while (!signal.aborted) {
    let released = 0;
    try {
      released = await domain.dueSends.releaseDue(new Date(), scheduleBatchSize, async (requests) => {
        await domain.orchestrator.release(requests);
      });
      if (released > 0) metrics.pipeline.scheduledReleased.inc(released);
      failures = 0;
    } catch (error) {
      failures++;
      logger.warn({ err: error, failures }, "due scheduled sends not released yet");
    }
    if (released < scheduleBatchSize) await sleep(Math.min(schedulePollMs * 2 ** failures, 5_000), signal);
  }
}

/**
 * Polls a provider that calls nobody back (SMSC's statuses, an SMTP slot's bounce mailbox)
 * once per PROVIDER_STATUS_POLL_MS across all workers (a Redis lock: SMSC allows about one
 * such request a minute per account, and a POP3 mailbox takes one session at a time), and
 * applies what it learns like a webhook's reports.
 */
async function pollStatuses(
  poller: StatusPoller,
  domain: WorkerDomain,
  infra: Infrastructure,
  config: Config,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const everyMs = config.dispatch.statusPollMs;
  const round: StatusPollRound = {
    awaitingReport: () =>
      domain.unitOfWork.read((stores) =>
        stores.messages.awaitingReport(poller.provider, new Date(Date.now() - STATUS_POLL_WINDOW_MS), 500),
      ),
    apply: (reports) => domain.providerFeedback.apply(reports),
  };
  while (!signal.aborted) {
    let waitMs = everyMs;
    try {
      const mine = await infra.redis.set(
        `notification:status-poll:${poller.provider}`,
        WORKER_ID,
        "PX",
        everyMs,
        "NX",
      );
      if (mine) {
        const done = await poller.poll(round);
        if (done) logger.info({ provider: poller.provider, ...done }, "provider statuses polled");
      }
    } catch (error) {
      waitMs = Math.max(everyMs, (error as { retryAfterMs?: number }).retryAfterMs ?? 0);
      logger.warn({ provider: poller.provider, err: error }, "provider statuses not polled");
    }
    await sleep(waitMs, signal);
  }
}

// Messages older than this with no report are not asked about again: the provider has forgotten them too.
const STATUS_POLL_WINDOW_MS = 3 * 24 * 60 * 60_000;

/** Per group, the records of its topics not yet committed by it. */
async function consumerLag(infra: Infrastructure, groups: string[]): Promise<Record<string, number>> {
  const lags: Record<string, number> = {};
  for (const groupId of groups) {
    let lag = 0;
    for (const { topic, partitions } of await infra.kafkaAdmin.fetchOffsets({ groupId })) {
      const ends = new Map(
        (await infra.kafkaAdmin.fetchTopicOffsets(topic)).map((end) => [end.partition, Number(end.high)]),
      );
      for (const { partition, offset } of partitions) {
        const committed = Number(offset);
        const end = ends.get(partition) ?? 0;
        lag += committed < 0 ? end : Math.max(0, end - committed);
      }
    }
    lags[groupId] = lag;
  }
  return lags;
}
