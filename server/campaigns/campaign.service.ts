import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { CampaignManager } from "../../core/campaigns/index.ts";
import {
  type CampaignService,
  ListCampaignsResponseSchema,
} from "../../gen/platform/notification/v1/campaign_service_pb.ts";
import { campaignDraftOf, campaignFilterOf, campaignMessage } from "../../mappers/index.ts";
import { callerKey } from "../api/caller-context.ts";

const DEFAULT_PAGE_SIZE = 50;

/** CampaignService over the campaign manager: each method maps the request, calls core, maps the answer. */
export function campaignService(campaigns: CampaignManager): ServiceImpl<typeof CampaignService> {
  return {
    async createCampaign(request, context) {
      return campaignMessage(
        await campaigns.create(campaignDraftOf(request.campaign), context.values.get(callerKey)),
      );
    },
    async getCampaign(request) {
      return campaignMessage(await campaigns.get(request.campaignId));
    },
    async listCampaigns(request) {
      const page = await campaigns.list(campaignFilterOf(request, request.pageSize || DEFAULT_PAGE_SIZE));
      return create(ListCampaignsResponseSchema, {
        campaigns: page.campaigns.map(campaignMessage),
        nextPageToken: page.nextPageToken,
      });
    },
    async updateCampaign(request, context) {
      const updated = await campaigns.update(
        request.campaignId,
        campaignDraftOf(request.campaign),
        Number(request.expectedRevision),
        context.values.get(callerKey),
      );
      return campaignMessage(updated);
    },
    async scheduleCampaign(request, context) {
      // Validation has run: scheduled_time is set (and the epoch would be refused as past).
      const at = request.scheduledTime ? timestampDate(request.scheduledTime) : new Date(0);
      return campaignMessage(await campaigns.schedule(request.campaignId, at, context.values.get(callerKey)));
    },
    async startCampaign(request, context) {
      return campaignMessage(await campaigns.start(request.campaignId, context.values.get(callerKey)));
    },
    async pauseCampaign(request, context) {
      return campaignMessage(await campaigns.pause(request.campaignId, context.values.get(callerKey)));
    },
    async resumeCampaign(request, context) {
      return campaignMessage(await campaigns.resume(request.campaignId, context.values.get(callerKey)));
    },
    async completeCampaign(request, context) {
      return campaignMessage(await campaigns.complete(request.campaignId, context.values.get(callerKey)));
    },
    async archiveCampaign(request, context) {
      return campaignMessage(await campaigns.archive(request.campaignId, context.values.get(callerKey)));
    },
  };
}
