import type { ServiceImpl } from "@connectrpc/connect";
import type { CampaignReports } from "../../core/campaign-report/index.ts";
import type { CampaignReportService } from "../../gen/platform/notification/v1/campaign_report_service_pb.ts";
import { campaignReportMessage, reportBucketOf } from "../../mappers/index.ts";

/** CampaignReportService over campaign reports: maps the request, calls core, maps the answer. */
export function campaignReportService(reports: CampaignReports): ServiceImpl<typeof CampaignReportService> {
  return {
    async getCampaignReport(request) {
      return campaignReportMessage(await reports.get(request.campaignId, reportBucketOf(request)));
    },
  };
}
