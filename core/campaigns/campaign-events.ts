import type { OutboxEvent } from "../sending/index.ts";
import type { CampaignStatus } from "./campaign.ts";

/**
 * A campaign's change of status as the platform is told it (specification §5.1,
 * com.platform.notification.campaign.status.changed.v1): the Admin and Analytics services
 * follow campaigns by these.
 */
export interface CampaignStatusChange {
  campaignId: string;
  campaignName: string;
  newStatus: CampaignStatus;
  /** Empty for a campaign just created. */
  previousStatus: CampaignStatus | "";
  changedAt: Date;
  /** "system" for the service's own changes, else the subject of who made it. */
  updatedBy: string;
  /** The campaign's revision after the change: with its id, it names the change. */
  revision: number;
}

/** Turns campaign status changes into the events the outbox carries (their format is the transport's). */
export interface CampaignEventEncoder {
  encode(changes: CampaignStatusChange[]): OutboxEvent[];
}
