import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type {
  Campaign,
  CampaignDraft,
  CampaignFilter,
  CampaignRunPhase,
  CampaignStatus,
  CampaignVariant,
  WinnerDecision,
  WinnerMetric,
  WinnerRollout,
} from "../core/campaigns/index.ts";
import {
  type Campaign as CampaignMessage,
  CampaignProgressSchema,
  CampaignSchema,
  CampaignStatsSummarySchema,
  CampaignVariantSchema,
  type ListCampaignsRequest,
  CampaignRunPhase as ProtoPhase,
  CampaignStatus as ProtoStatus,
  WinnerMetric as ProtoWinnerMetric,
  VariantFiguresSchema,
  type CampaignVariant as VariantMessage,
  WinnerDecisionSchema,
  type WinnerRollout as WinnerRolloutMessage,
  WinnerRolloutSchema,
} from "../gen/platform/notification/v1/campaign_service_pb.ts";

const PROTO_STATUS_OF: Record<CampaignStatus, ProtoStatus> = {
  draft: ProtoStatus.DRAFT,
  scheduled: ProtoStatus.SCHEDULED,
  active: ProtoStatus.ACTIVE,
  paused: ProtoStatus.PAUSED,
  completed: ProtoStatus.COMPLETED,
  archived: ProtoStatus.ARCHIVED,
};

const PROTO_METRIC_OF: Record<WinnerMetric, ProtoWinnerMetric> = {
  open_rate: ProtoWinnerMetric.OPEN_RATE,
  click_rate: ProtoWinnerMetric.CLICK_RATE,
};

const PROTO_PHASE_OF: Record<CampaignRunPhase, ProtoPhase> = {
  all: ProtoPhase.ALL,
  sample: ProtoPhase.SAMPLE,
  deciding: ProtoPhase.DECIDING,
  rollout: ProtoPhase.ROLLOUT,
};

const STATUS_OF = new Map(
  Object.entries(PROTO_STATUS_OF).map(([status, proto]) => [proto, status as CampaignStatus]),
);

// Validation has run: a Campaign in a create or update request has a name, and its numbers are in range.
export function campaignDraftOf(campaign: CampaignMessage | undefined): CampaignDraft {
  return {
    name: campaign?.name ?? "",
    description: campaign?.description ?? "",
    targetSegmentId: campaign?.targetSegmentId ?? "",
    templateId: campaign?.templateId ?? "",
    variants: (campaign?.variants ?? []).map(variantOf),
    holdoutPercent: campaign?.holdoutPercent ?? 0,
    winnerRollout: campaign?.winnerRollout ? winnerRolloutOf(campaign.winnerRollout) : null,
    sendRatePerSecond: campaign?.sendRatePerSecond || null,
    trackingEnabled: campaign?.trackingEnabled ?? true,
  };
}

function variantOf(variant: VariantMessage): CampaignVariant {
  return {
    templateId: variant.templateId,
    templateVersion: variant.templateVersion,
    sharePercent: variant.sharePercent,
  };
}

function winnerRolloutOf(rollout: WinnerRolloutMessage): WinnerRollout {
  return {
    samplePercent: rollout.samplePercent,
    waitSeconds: rollout.waitSeconds,
    // Validation refused UNSPECIFIED.
    metric: rollout.metric === ProtoWinnerMetric.CLICK_RATE ? "click_rate" : "open_rate",
  };
}

function winnerDecisionMessage(decision: WinnerDecision) {
  return create(WinnerDecisionSchema, {
    metric: PROTO_METRIC_OF[decision.metric],
    winner: decision.winner,
    decidedTime: timestampFromDate(decision.decidedAt),
    variants: decision.variants.map((figures) =>
      create(VariantFiguresSchema, {
        ...figures,
        sent: BigInt(figures.sent),
        opened: BigInt(figures.opened),
        clicked: BigInt(figures.clicked),
      }),
    ),
  });
}

/** The filter of a validated request; unset fields and UNSPECIFIED filter nothing. */
export function campaignFilterOf(request: ListCampaignsRequest, pageSize: number): CampaignFilter {
  const status = STATUS_OF.get(request.status);
  return {
    ...(status ? { status } : {}),
    ...(request.createdBy ? { createdBy: request.createdBy } : {}),
    ...(request.nameContains ? { nameContains: request.nameContains } : {}),
    ...(request.scheduledFrom ? { scheduledFrom: timestampDate(request.scheduledFrom) } : {}),
    ...(request.scheduledTo ? { scheduledTo: timestampDate(request.scheduledTo) } : {}),
    ...(request.pageToken ? { pageToken: request.pageToken } : {}),
    pageSize,
  };
}

export function campaignMessage(campaign: Campaign): CampaignMessage {
  return create(CampaignSchema, {
    id: campaign.id,
    name: campaign.name,
    description: campaign.description,
    targetSegmentId: campaign.targetSegmentId,
    templateId: campaign.templateId,
    status: PROTO_STATUS_OF[campaign.status],
    scheduledTime: timestampOf(campaign.scheduledAt),
    startedTime: timestampOf(campaign.startedAt),
    completedTime: timestampOf(campaign.completedAt),
    createdBy: campaign.createdBy,
    updatedBy: campaign.updatedBy,
    ...(campaign.statsSummary
      ? {
          statsSummary: create(CampaignStatsSummarySchema, {
            sent: BigInt(campaign.statsSummary.sent),
            delivered: BigInt(campaign.statsSummary.delivered),
            opened: BigInt(campaign.statsSummary.opened),
          }),
        }
      : {}),
    sendRatePerSecond: campaign.sendRatePerSecond ?? 0,
    trackingEnabled: campaign.trackingEnabled,
    variants: campaign.variants.map((variant) => create(CampaignVariantSchema, variant)),
    holdoutPercent: campaign.holdoutPercent,
    ...(campaign.winnerRollout
      ? {
          winnerRollout: create(WinnerRolloutSchema, {
            ...campaign.winnerRollout,
            metric: PROTO_METRIC_OF[campaign.winnerRollout.metric],
          }),
        }
      : {}),
    ...(campaign.winnerDecision ? { winnerDecision: winnerDecisionMessage(campaign.winnerDecision) } : {}),
    revision: BigInt(campaign.revision),
    createTime: timestampFromDate(campaign.createdAt),
    updateTime: timestampFromDate(campaign.updatedAt),
    ...(campaign.progress && campaign.startedAt
      ? {
          progress: create(CampaignProgressSchema, {
            ...(campaign.progress.audienceSize === null
              ? {}
              : { audienceSize: BigInt(campaign.progress.audienceSize) }),
            submitted: BigInt(campaign.progress.submitted),
            heldOut: BigInt(campaign.progress.heldOut),
            phase: PROTO_PHASE_OF[campaign.progress.phase],
            ratePerSecond: campaign.progress.ratePerSecond,
            ...(campaign.progress.etaSeconds === null
              ? {}
              : { etaSeconds: BigInt(campaign.progress.etaSeconds) }),
          }),
        }
      : {}),
  });
}

function timestampOf(at: Date | null): Timestamp | undefined {
  return at ? timestampFromDate(at) : undefined;
}
