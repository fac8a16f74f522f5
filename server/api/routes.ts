import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import type { ApiKeys } from "../../core/api-keys/index.ts";
import type { CampaignReports } from "../../core/campaign-report/index.ts";
import type { CampaignManager, SegmentManager } from "../../core/campaigns/index.ts";
import type { DeliveryStatsReport } from "../../core/delivery-stats/index.ts";
import type { DeviceManager } from "../../core/devices/index.ts";
import type { InboxManager } from "../../core/inbox/index.ts";
import type { PreferenceManager } from "../../core/preferences/index.ts";
import type { MessageReader, SendOrchestrator, SendProgressQueries } from "../../core/sending/index.ts";
import type { SuppressionManager } from "../../core/suppressions/index.ts";
import type { TemplateCatalog } from "../../core/templates/index.ts";
import { Health } from "../../gen/grpc/health/v1/health_pb.ts";
import { ApiKeyService } from "../../gen/platform/notification/v1/api_key_service_pb.ts";
import { CampaignReportService } from "../../gen/platform/notification/v1/campaign_report_service_pb.ts";
import { CampaignService } from "../../gen/platform/notification/v1/campaign_service_pb.ts";
import { DeviceService } from "../../gen/platform/notification/v1/device_service_pb.ts";
import { InboxService } from "../../gen/platform/notification/v1/inbox_service_pb.ts";
import { MessageService } from "../../gen/platform/notification/v1/message_service_pb.ts";
import { PreferenceService } from "../../gen/platform/notification/v1/preference_service_pb.ts";
import { ProviderService } from "../../gen/platform/notification/v1/provider_service_pb.ts";
import { SegmentService } from "../../gen/platform/notification/v1/segment_service_pb.ts";
import { SendService } from "../../gen/platform/notification/v1/send_service_pb.ts";
import { StatsService } from "../../gen/platform/notification/v1/stats_service_pb.ts";
import { SuppressionService } from "../../gen/platform/notification/v1/suppression_service_pb.ts";
import { TemplateService } from "../../gen/platform/notification/v1/template_service_pb.ts";
import { apiKeyService } from "../api-keys/api-key.service.ts";
import { campaignService } from "../campaigns/campaign.service.ts";
import { campaignReportService } from "../campaigns/campaign-report.service.ts";
import { deviceService } from "../devices/device.service.ts";
import { healthService } from "../health/health.service.ts";
import type { HealthMonitor } from "../health/health-monitor.ts";
import { inboxService } from "../inbox/inbox.service.ts";
import { messageService } from "../messages/message.service.ts";
import { preferenceService } from "../preferences/preference.service.ts";
import { providerService } from "../providers/provider.service.ts";
import { registerReflection } from "../reflection/reflection.service.ts";
import { segmentService } from "../segments/segment.service.ts";
import { sendService } from "../sending/send.service.ts";
import { statsService } from "../stats/stats.service.ts";
import { suppressionService } from "../suppressions/suppression.service.ts";
import { templateService } from "../templates/template.service.ts";

export interface ApiServices {
  monitor: HealthMonitor;
  healthWatchIntervalMs: number;
  templates: TemplateCatalog;
  apiKeys: ApiKeys;
  preferences: PreferenceManager;
  devices: DeviceManager;
  inbox: InboxManager;
  orchestrator: SendOrchestrator;
  sendProgress: SendProgressQueries;
  deliveryStats: DeliveryStatsReport;
  messages: MessageReader;
  suppressions: SuppressionManager;
  campaigns: CampaignManager;
  campaignReports: CampaignReports;
  segments: SegmentManager;
  providers: Parameters<typeof providerService>[0];
}

/** Every RPC service we serve, on every surface; the REST routes come from the same list. */
export const SERVED_SERVICES: DescService[] = [
  Health,
  TemplateService,
  ApiKeyService,
  PreferenceService,
  DeviceService,
  InboxService,
  SendService,
  StatsService,
  MessageService,
  SuppressionService,
  ProviderService,
  CampaignService,
  CampaignReportService,
  SegmentService,
];

export function registerRoutes(router: ConnectRouter, services: ApiServices): void {
  router.service(Health, healthService(services.monitor, services.healthWatchIntervalMs));
  router.service(TemplateService, templateService(services.templates));
  router.service(ApiKeyService, apiKeyService(services.apiKeys));
  router.service(PreferenceService, preferenceService(services.preferences));
  router.service(DeviceService, deviceService(services.devices));
  router.service(InboxService, inboxService(services.inbox));
  router.service(SendService, sendService(services.orchestrator, services.sendProgress));
  router.service(StatsService, statsService(services.deliveryStats));
  router.service(MessageService, messageService(services.messages));
  router.service(SuppressionService, suppressionService(services.suppressions));
  router.service(ProviderService, providerService(services.providers));
  router.service(CampaignService, campaignService(services.campaigns));
  router.service(CampaignReportService, campaignReportService(services.campaignReports));
  router.service(SegmentService, segmentService(services.segments));
  // Public, and gRPC only: not in SERVED_SERVICES, it has no REST routes. Lists every service here.
  registerReflection(router);
}
