export { AnalyticsAudience } from "./analytics/analytics-audience.ts";
export {
  type AnalyticsCall,
  type AnalyticsClientOptions,
  createAnalyticsClient,
} from "./analytics/analytics-client.ts";
export { PostgresApiKeyStore } from "./postgres/api-key.repository.ts";
export { type AuditEntry, recordAudit } from "./postgres/audit.ts";
export { CampaignRepository } from "./postgres/campaigns/campaign.repository.ts";
export { PostgresCampaignMessages } from "./postgres/campaigns/campaign-messages.repository.ts";
export { PostgresCampaignSummaries } from "./postgres/campaigns/campaign-summaries.repository.ts";
export { SegmentRepository } from "./postgres/campaigns/segment.repository.ts";
export { DeviceRepository } from "./postgres/devices/device.repository.ts";
export { entities } from "./postgres/entities.ts";
export { PostgresInboxStore } from "./postgres/inbox/inbox.repository.ts";
export { PreferenceRepository } from "./postgres/preferences/preference.repository.ts";
export { PostgresCampaignMessageCounts } from "./postgres/sending/campaign-message-counts.repository.ts";
export { PostgresCampaignOutcomes } from "./postgres/sending/campaign-outcomes.repository.ts";
export { PostgresMessageQueries } from "./postgres/sending/message-queries.repository.ts";
export { PostgresOutboxFeed } from "./postgres/sending/outbox.repository.ts";
export { packEvents, unpackEvents } from "./postgres/sending/outbox-rows.ts";
export { PostgresUnitOfWork } from "./postgres/sending/postgres-unit-of-work.ts";
export { type CipherKey, RecipientCipher } from "./postgres/sending/recipient-cipher.ts";
export { PostgresDueSends } from "./postgres/sending/schedule.repository.ts";
export { PostgresSendProgress } from "./postgres/sending/send-progress.repository.ts";
export { PostgresTrackedMessages } from "./postgres/sending/tracked-messages.repository.ts";
export { PostgresSuppressionStore } from "./postgres/suppressions/suppression.repository.ts";
export { TemplateRepository } from "./postgres/templates/template.repository.ts";
export {
  CachedPreferenceStore,
  type CachedPreferences,
  preferenceSerializer,
  versionOfPreferences,
} from "./redis/cached-preference-store.ts";
export {
  CachedTemplateStore,
  templateSerializer,
  versionOfTemplate,
} from "./redis/cached-template-store.ts";
export { InvalidationSubscriber } from "./redis/invalidation-subscriber.ts";
export { RedisLiveInboxFeed, RedisLiveInboxPublisher } from "./redis/live-inbox.ts";
export { LocalLru } from "./redis/local-lru.ts";
export { ProviderStatusBoard, type ProviderWorkerReport } from "./redis/provider-status-board.ts";
export { RedisSendRateLimiter } from "./redis/send-rate-limiter.ts";
export { type CacheOutcome, type CacheSerializer, TwoLevelCache } from "./redis/two-level-cache.ts";
