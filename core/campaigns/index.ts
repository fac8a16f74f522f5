export {
  CAMPAIGN_STATUSES,
  type Campaign,
  type CampaignDraft,
  type CampaignFilter,
  type CampaignPage,
  type CampaignStatsSummary,
  type CampaignStatus,
  type CampaignVariant,
} from "./campaign.ts";
export type { CampaignEventEncoder, CampaignStatusChange } from "./campaign-events.ts";
export { CampaignManager, type CampaignManagerDeps } from "./campaign-manager.ts";
export {
  advance,
  assertTransition,
  type CampaignCommand,
  stepsOf,
} from "./campaign-status.ts";
export type { CampaignStore, CampaignWrite } from "./campaign-store.ts";
