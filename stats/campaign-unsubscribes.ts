import type { ClickHouseClient } from "@clickhouse/client";
import type { CampaignUnsubscribe } from "../core/campaign-report/index.ts";

export const UNSUBSCRIBES_TABLE = "notification_campaign_unsubscribes";

/**
 * Writes each unsubscribe through a campaign message's link to ClickHouse at once: a person's
 * click, a few a second at most, so no batch is worth its delay.
 */
export class ClickHouseCampaignUnsubscribes {
  constructor(private readonly client: ClickHouseClient) {}

  async record(unsubscribe: CampaignUnsubscribe): Promise<void> {
    await this.client.insert({
      table: UNSUBSCRIBES_TABLE,
      values: [
        {
          event_time: unsubscribe.at.toISOString().replace("T", " ").replace("Z", ""),
          message_id: unsubscribe.messageId,
          user_id: unsubscribe.userId,
          campaign_id: unsubscribe.campaignId,
          campaign_variant: unsubscribe.campaignVariant,
          channel: unsubscribe.channel,
          notification_type: unsubscribe.type,
        },
      ],
      format: "JSONEachRow",
    });
  }
}
