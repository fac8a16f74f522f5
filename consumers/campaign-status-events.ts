import { create, toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { CampaignEventEncoder, CampaignStatusChange } from "../core/campaigns/index.ts";
import type { OutboxEvent } from "../core/sending/index.ts";
import { CampaignStatusChangedSchema } from "../gen/platform/notification/events/v1/campaign_status_changed_pb.ts";
import { EVENT_SOURCE } from "./status-events.ts";
import { TOPICS } from "./topics.ts";

const CAMPAIGN_STATUS_EVENT_TYPE = "com.platform.notification.campaign.status.changed.v1";

/**
 * Campaign status changes as structured CloudEvents in JSON, the specification's form, keyed
 * by campaign id so that one campaign's changes keep their order. The id is the campaign's
 * and its revision after the change: published twice (the relay crashed after Kafka took it),
 * it is the same event to a consumer that drops repeats.
 *
 * Always JSON, whatever EVENTS_FORMAT says of status events: binary mode frames the data with
 * the id of the topic's registered schema (`<topic>-value`), which is MessageStatusUpdated's;
 * a second message type on the topic needs subjects of its own (the record-name strategy)
 * before it can be framed. A consumer tells the modes apart by the headers, as the CloudEvents
 * Kafka binding does.
 */
export class StructuredCampaignEvents implements CampaignEventEncoder {
  encode(changes: CampaignStatusChange[]): OutboxEvent[] {
    return changes.map((change) => ({
      topic: TOPICS.events,
      key: change.campaignId,
      headers: { "content-type": "application/cloudevents+json; charset=UTF-8" },
      value: Buffer.from(
        JSON.stringify({
          specversion: "1.0",
          id: `${change.campaignId}:${change.revision}`,
          source: EVENT_SOURCE,
          type: CAMPAIGN_STATUS_EVENT_TYPE,
          subject: change.campaignId,
          time: change.changedAt.toISOString(),
          datacontenttype: "application/json",
          // Every field, the empty previousStatus of a creation too: the spec's payload has all six.
          data: toJson(CampaignStatusChangedSchema, campaignStatusChangedOf(change), {
            alwaysEmitImplicit: true,
          }),
        }),
        "utf8",
      ),
    }));
  }
}

/** The contract's message of a campaign status change. */
function campaignStatusChangedOf(change: CampaignStatusChange) {
  return create(CampaignStatusChangedSchema, {
    campaignId: change.campaignId,
    campaignName: change.campaignName,
    newStatus: change.newStatus,
    previousStatus: change.previousStatus,
    changeTimestamp: timestampFromDate(change.changedAt),
    updatedBy: change.updatedBy,
  });
}
