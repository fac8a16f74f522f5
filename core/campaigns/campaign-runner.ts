import type { SendOrchestrator, SendRequest } from "../sending/index.ts";
import type { Template, TemplateStore } from "../templates/index.ts";
import type { Audiences } from "./audiences.ts";
import type { Campaign } from "./campaign.ts";
import type { CampaignEventEncoder } from "./campaign-events.ts";
import { advance } from "./campaign-status.ts";
import type {
  CampaignCheckpoint,
  CampaignRunOutcome,
  CampaignRunStep,
  CampaignRuns,
} from "./campaign-store.ts";

/** Paces campaign sends across every worker. */
export interface CampaignPace {
  /** Resolves when one more message of the campaign may go: within its own rate (null: none) and the total of all campaigns. */
  take(campaignId: string, perSecond: number | null): Promise<void>;
  /** The most messages a second a campaign of that own rate can go at. */
  ceiling(perSecond: number | null): number;
}

export interface CampaignRunnerDeps {
  runs: CampaignRuns;
  audiences: Pick<Audiences, "find" | "members">;
  templates: Pick<TemplateStore, "get">;
  orchestrator: Pick<SendOrchestrator, "accept">;
  pace: CampaignPace;
  events: CampaignEventEncoder;
  /** Audience members read, submitted and checkpointed at a time. */
  pageSize: number;
}

// Requests handed to the orchestrator at once: one transaction each, paced before it.
const CHUNK = 100;
// A page holds its campaign's lock while it is paced: at a low rate it is made smaller, so that
// a pause waits for about this long at most.
const PAGE_SECONDS = 5;

/**
 * Sends active campaigns to their audiences, a page at a time: each member gets one request
 * whose id is the campaign's and theirs, so a page resubmitted after a crash sends nobody the
 * campaign twice (the orchestrator claims each delivery once). The orchestrator applies the
 * user's preferences by the template's name, their notification type, and the suppression list.
 */
export class CampaignRunner {
  constructor(private readonly deps: CampaignRunnerDeps) {}

  /** Works one page of one active campaign. Undefined when no active campaign was free. */
  runPage(): Promise<CampaignRunOutcome | undefined> {
    return this.deps.runs.runActive((campaign, checkpoint) => this.page(campaign, checkpoint));
  }

  private async page(campaign: Campaign, checkpoint: CampaignCheckpoint): Promise<CampaignRunStep> {
    const { audiences, orchestrator, pace } = this.deps;
    const template = await this.deps.templates.get(campaign.templateId);
    // The campaign's row refers to its template (ON DELETE RESTRICT): it cannot be gone.
    if (!template) throw new Error(`campaign ${campaign.id}: template ${campaign.templateId} is missing`);
    const first = checkpoint.at === null;
    const audienceSize = first
      ? ((await audiences.find(campaign.targetSegmentId))?.size ?? null)
      : checkpoint.audienceSize;
    const limit = Math.max(
      1,
      Math.min(this.deps.pageSize, Math.floor(pace.ceiling(campaign.sendRatePerSecond) * PAGE_SECONDS)),
    );
    const page = await audiences.members(campaign.targetSegmentId, checkpoint.cursor, limit);
    const receivedAt = new Date();
    for (let start = 0; start < page.userIds.length; start += CHUNK) {
      const chunk = page.userIds.slice(start, start + CHUNK);
      for (const _ of chunk) await pace.take(campaign.id, campaign.sendRatePerSecond);
      await orchestrator.accept(chunk.map((userId) => requestOf(campaign, template, userId, receivedAt)));
    }
    const at = new Date();
    const next: CampaignCheckpoint = {
      cursor: page.cursor,
      submitted: checkpoint.submitted + page.userIds.length,
      audienceSize,
      at,
    };
    if (page.cursor !== "") return { checkpoint: next };
    const done = advance(
      { ...campaign, statsSummary: { ...summaryOf(campaign), sent: next.submitted } },
      "completed",
      { by: "system", at },
    );
    return {
      checkpoint: next,
      completion: {
        campaign: done.campaign,
        action: "campaign.complete",
        events: this.deps.events.encode([done.change]),
      },
    };
  }
}

/** The request id of a campaign's message to a user: the same on every resubmission. */
export function campaignRequestId(campaignId: string, userId: string): string {
  return `campaign:${campaignId}:${userId}`;
}

function requestOf(campaign: Campaign, template: Template, userId: string, receivedAt: Date): SendRequest {
  return {
    requestId: campaignRequestId(campaign.id, userId),
    recipients: [{ userId, deviceTokens: [] }],
    templateName: template.name,
    languageCode: template.defaultLanguageCode,
    variables: {},
    channels: [template.channel],
    // Bulk: never ahead of a transactional message.
    priority: "low",
    trackingEnabled: campaign.trackingEnabled,
    campaignId: campaign.id,
    receivedAt,
  };
}

function summaryOf(campaign: Campaign) {
  return campaign.statsSummary ?? { sent: 0, delivered: 0, opened: 0 };
}
