import type { MigrationObject } from "@mikro-orm/core";
import { deliveryStats } from "./clickhouse/0001_delivery_stats.ts";
import { deliveryStatsReasonDedup } from "./clickhouse/0002_delivery_stats_reason_dedup.ts";
import { deliveryStatsByCampaign } from "./clickhouse/0003_delivery_stats_by_campaign.ts";
import { campaignUnsubscribes } from "./clickhouse/0004_campaign_unsubscribes.ts";
import type { ClickHouseMigration } from "./clickhouse/migration.ts";
import { Migration0001AuditLog } from "./postgres/Migration0001AuditLog.ts";
import { Migration0002Templates } from "./postgres/Migration0002Templates.ts";
import { Migration0003PreferencesDevices } from "./postgres/Migration0003PreferencesDevices.ts";
import { Migration0004ApiKeys } from "./postgres/Migration0004ApiKeys.ts";
import { Migration0005DeliveryClaims } from "./postgres/Migration0005DeliveryClaims.ts";
import { Migration0006MessageLog } from "./postgres/Migration0006MessageLog.ts";
import { Migration0007Outbox } from "./postgres/Migration0007Outbox.ts";
import { Migration0008ScheduledSends } from "./postgres/Migration0008ScheduledSends.ts";
import { Migration0009MessageLogReads } from "./postgres/Migration0009MessageLogReads.ts";
import { Migration0010OutboxRows } from "./postgres/Migration0010OutboxRows.ts";
import { Migration0011DelayedOutbox } from "./postgres/Migration0011DelayedOutbox.ts";
import { Migration0012ProviderFeedback } from "./postgres/Migration0012ProviderFeedback.ts";
import { Migration0013Inbox } from "./postgres/Migration0013Inbox.ts";
import { Migration0014Campaigns } from "./postgres/Migration0014Campaigns.ts";
import { Migration0015Segments } from "./postgres/Migration0015Segments.ts";
import { Migration0016Tracking } from "./postgres/Migration0016Tracking.ts";
import { Migration0017CampaignRunner } from "./postgres/Migration0017CampaignRunner.ts";
import { Migration0018CampaignFrequency } from "./postgres/Migration0018CampaignFrequency.ts";
import { Migration0019CampaignVariants } from "./postgres/Migration0019CampaignVariants.ts";
import { Migration0020FrequencyCapByUserIndex } from "./postgres/Migration0020FrequencyCapByUserIndex.ts";

export type { ClickHouseMigration } from "./clickhouse/migration.ts";

/** PostgreSQL migrations in the order they apply. Append only. */
export const postgresMigrations: MigrationObject[] = [
  { name: "0001_audit_log", class: Migration0001AuditLog },
  { name: "0002_templates", class: Migration0002Templates },
  { name: "0003_preferences_devices", class: Migration0003PreferencesDevices },
  { name: "0004_api_keys", class: Migration0004ApiKeys },
  { name: "0005_delivery_claims", class: Migration0005DeliveryClaims },
  { name: "0006_message_log", class: Migration0006MessageLog },
  { name: "0007_outbox", class: Migration0007Outbox },
  { name: "0008_scheduled_sends", class: Migration0008ScheduledSends },
  { name: "0009_message_log_reads", class: Migration0009MessageLogReads },
  { name: "0010_outbox_rows", class: Migration0010OutboxRows },
  { name: "0011_delayed_outbox", class: Migration0011DelayedOutbox },
  { name: "0012_provider_feedback", class: Migration0012ProviderFeedback },
  { name: "0013_inbox", class: Migration0013Inbox },
  { name: "0014_campaigns", class: Migration0014Campaigns },
  { name: "0015_segments", class: Migration0015Segments },
  { name: "0016_tracking", class: Migration0016Tracking },
  { name: "0017_campaign_runner", class: Migration0017CampaignRunner },
  { name: "0018_campaign_frequency", class: Migration0018CampaignFrequency },
  { name: "0019_campaign_variants", class: Migration0019CampaignVariants },
  { name: "0020_frequency_cap_by_user_index", class: Migration0020FrequencyCapByUserIndex },
];

/** ClickHouse migrations in the order they apply. Append only. */
export const clickhouseMigrations: ClickHouseMigration[] = [
  deliveryStats,
  deliveryStatsReasonDedup,
  deliveryStatsByCampaign,
  campaignUnsubscribes,
];
