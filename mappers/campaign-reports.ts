import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { CampaignReport, ReportFigures } from "../core/campaign-report/index.ts";
import type { TimeBucket } from "../core/delivery-stats/index.ts";
import {
  type CampaignReportFigures,
  CampaignReportFiguresSchema,
  type GetCampaignReportRequest,
  type GetCampaignReportResponse,
  GetCampaignReportResponseSchema,
} from "../gen/platform/notification/v1/campaign_report_service_pb.ts";
import { TimeBucket as TimeBucketMessage } from "../gen/platform/notification/v1/stats_service_pb.ts";
import { BUCKET_OF } from "./stats.ts";

const PROTO_BUCKET_OF = Object.fromEntries(
  Object.entries(BUCKET_OF).map(([proto, bucket]) => [bucket, Number(proto) as TimeBucketMessage]),
) as Record<TimeBucket, TimeBucketMessage>;

/** The bucket asked for; undefined lets the report choose. */
export function reportBucketOf(request: GetCampaignReportRequest): TimeBucket | undefined {
  return request.bucket === TimeBucketMessage.UNSPECIFIED ? undefined : BUCKET_OF[request.bucket];
}

function figuresMessage(figures: ReportFigures): CampaignReportFigures {
  return create(CampaignReportFiguresSchema, {
    ...(figures.audience !== null ? { audience: BigInt(figures.audience) } : {}),
    sent: BigInt(figures.sent),
    delivered: BigInt(figures.delivered),
    failed: BigInt(figures.failed),
    suppressed: BigInt(figures.suppressed),
    expired: BigInt(figures.expired),
    uniqueOpens: BigInt(figures.uniqueOpens),
    uniqueClicks: BigInt(figures.uniqueClicks),
    unsubscribes: BigInt(figures.unsubscribes),
    deliveryRate: figures.deliveryRate,
    openRate: figures.openRate,
    clickRate: figures.clickRate,
    unsubscribeRate: figures.unsubscribeRate,
  });
}

export function campaignReportMessage(report: CampaignReport): GetCampaignReportResponse {
  return create(GetCampaignReportResponseSchema, {
    campaignId: report.campaignId,
    totals: figuresMessage(report.totals),
    variants: report.variants.map(({ variant, figures }) => ({ variant, figures: figuresMessage(figures) })),
    bucket: PROTO_BUCKET_OF[report.bucket],
    series: report.series.map((point) => ({
      bucketStartTime: timestampFromDate(point.bucketStart),
      variant: point.variant,
      sent: BigInt(point.sent),
      delivered: BigInt(point.delivered),
      failed: BigInt(point.failed),
      opened: BigInt(point.opened),
      clicked: BigInt(point.clicked),
    })),
    startTime: timestampFromDate(report.from),
    endTime: timestampFromDate(report.to),
  });
}
