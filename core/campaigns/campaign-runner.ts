import type { SendOrchestrator, SendRequest } from "../sending/index.ts";
import type { Template, TemplateStore } from "../templates/index.ts";
import type { Audiences } from "./audiences.ts";
import type { Campaign, CampaignRunPhase, WinnerRollout } from "./campaign.ts";
import type { CampaignEventEncoder } from "./campaign-events.ts";
import { advance } from "./campaign-status.ts";
import type {
  CampaignCheckpoint,
  CampaignOutcomes,
  CampaignRunOutcome,
  CampaignRunStep,
  CampaignRuns,
} from "./campaign-store.ts";
import {
  assignmentOf,
  inSample,
  type VariantAssignment,
  variantAssignment,
  variantKey,
} from "./variant-assignment.ts";
import { decideWinner } from "./winner-decision.ts";

/** Paces campaign sends across every worker. */
export interface CampaignPace {
  /** Resolves when `count` more messages of the campaign may go: within its own rate (null: none) and the total of all campaigns. */
  take(campaignId: string, perSecond: number | null, count: number): Promise<void>;
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
  /** The winner rollout's figures. */
  outcomes: CampaignOutcomes;
  /** Audience members read, submitted and checkpointed at a time. */
  pageSize: number;
  now?: () => Date;
}

// Requests handed to the orchestrator at once: one transaction each, paced before it.
const CHUNK = 100;
// Chunks of a page under way at once: a chunk mostly waits on PostgreSQL and Redis, so one at a
// time left the worker idle. They never share a member, so none sees another's claims.
const CHUNKS_AT_ONCE = 4;
// A page holds its campaign's lock while it is paced: at a low rate it is made smaller, so that
// a pause waits for about this long at most.
const PAGE_SECONDS = 5;

/** A member's message as a page submits it. */
interface MemberMessage {
  userId: string;
  assignment: VariantAssignment;
}

/**
 * Sends active campaigns to their audiences, a page at a time: each member gets one request
 * whose id is the campaign's and theirs, so a page resubmitted after a crash sends nobody the
 * campaign twice (the orchestrator claims each delivery once). The orchestrator applies the
 * user's preferences by the template's name, their notification type, and the suppression list.
 *
 * Each member gets the variant their id draws (variant-assignment.ts), or nothing in the
 * hold-out. With a winner rollout the audience is read twice: first only the sample is sent
 * its variants; after the wait the winner is picked from the sample's opens or clicks, and
 * the second reading sends it to everybody else.
 */
export class CampaignRunner {
  private readonly now: () => Date;

  constructor(private readonly deps: CampaignRunnerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Works one page of one active campaign. Undefined when no active campaign was free. */
  runPage(): Promise<CampaignRunOutcome | undefined> {
    return this.deps.runs.runActive((campaign, checkpoint) => this.step(campaign, checkpoint));
  }

  private step(campaign: Campaign, checkpoint: CampaignCheckpoint): Promise<CampaignRunStep> {
    const phase = phaseOf(campaign, checkpoint);
    return phase === "deciding" ? this.decide(campaign, checkpoint) : this.page(campaign, checkpoint, phase);
  }

  private async page(
    campaign: Campaign,
    checkpoint: CampaignCheckpoint,
    phase: Exclude<CampaignRunPhase, "deciding">,
  ): Promise<CampaignRunStep> {
    const { audiences, orchestrator, pace } = this.deps;
    const templates = await this.templatesOf(campaign);
    const audienceSize =
      checkpoint.at === null
        ? ((await audiences.find(campaign.targetSegmentId))?.size ?? null)
        : checkpoint.audienceSize;
    const limit = Math.max(
      1,
      Math.min(this.deps.pageSize, Math.floor(pace.ceiling(campaign.sendRatePerSecond) * PAGE_SECONDS)),
    );
    const page = await audiences.members(campaign.targetSegmentId, checkpoint.cursor, limit);
    const { picks, heldOut } = picksOf(campaign, phase, page.userIds);
    const receivedAt = this.now();
    // A failed chunk stops the page once the chunks under way end: it is resubmitted whole
    // from its checkpoint, and what went already is claimed and not sent twice.
    let nextChunk = 0;
    let failure: { error: unknown } | undefined;
    const submitChunks = async () => {
      while (nextChunk < picks.length && !failure) {
        const chunk = picks.slice(nextChunk, nextChunk + CHUNK);
        nextChunk += CHUNK;
        try {
          await pace.take(campaign.id, campaign.sendRatePerSecond, chunk.length);
          await orchestrator.accept(chunk.map((pick) => requestOf(campaign, templates, pick, receivedAt)));
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: CHUNKS_AT_ONCE }, submitChunks));
    if (failure) throw failure.error;
    const at = this.now();
    const next: CampaignCheckpoint = {
      cursor: page.cursor,
      submitted: checkpoint.submitted + picks.length,
      heldOut: checkpoint.heldOut + heldOut,
      audienceSize,
      phase,
      at,
    };
    if (page.cursor !== "") return { checkpoint: next };
    if (phase === "sample") {
      const wait = (campaign.winnerRollout as WinnerRollout).waitSeconds * 1000;
      return { checkpoint: { ...next, phase: "deciding" }, resumeAt: new Date(at.getTime() + wait) };
    }
    const done = advance(
      { ...campaign, statsSummary: { ...summaryOf(campaign), sent: next.submitted } },
      "completed",
      { by: "system", at },
    );
    return {
      checkpoint: next,
      write: {
        campaign: done.campaign,
        action: "campaign.complete",
        events: this.deps.events.encode([done.change]),
      },
    };
  }

  /** Picks the winner from the sample's figures and records it; the rollout reads the audience again. */
  private async decide(campaign: Campaign, checkpoint: CampaignCheckpoint): Promise<CampaignRunStep> {
    const rollout = campaign.winnerRollout as WinnerRollout;
    const at = this.now();
    const decision = decideWinner(
      campaign,
      rollout.metric,
      await this.deps.outcomes.byVariant(campaign.id),
      at,
    );
    return {
      checkpoint: { ...checkpoint, cursor: "", phase: "rollout", at },
      write: {
        campaign: {
          ...campaign,
          winnerDecision: decision,
          updatedBy: "system",
          updatedAt: at,
          revision: campaign.revision + 1,
        },
        action: "campaign.decide_winner",
        events: [],
      },
    };
  }

  /** Every template the campaign sends, by id. */
  private async templatesOf(campaign: Campaign): Promise<Map<string, Template>> {
    const ids = new Set(
      campaign.variants.length > 0
        ? campaign.variants.map((variant) => variant.templateId)
        : [campaign.templateId],
    );
    const templates = new Map<string, Template>();
    for (const id of ids) {
      const template = await this.deps.templates.get(id);
      // The campaign's row refers to its template (ON DELETE RESTRICT), its variants were
      // checked when it was scheduled: gone only if deleted since, and then the page waits.
      if (!template) throw new Error(`campaign ${campaign.id}: template ${id} is missing`);
      templates.set(id, template);
    }
    return templates;
  }
}

/** The run's phase: a campaign that has not checkpointed yet starts in `sample` with a winner rollout. */
function phaseOf(campaign: Campaign, checkpoint: CampaignCheckpoint): CampaignRunPhase {
  if (checkpoint.at !== null) return checkpoint.phase;
  return campaign.winnerRollout ? "sample" : "all";
}

/** Who of a page gets which message in this phase, and how many of them the hold-out newly kept. */
function picksOf(
  campaign: Campaign,
  phase: Exclude<CampaignRunPhase, "deciding">,
  userIds: readonly string[],
): { picks: MemberMessage[]; heldOut: number } {
  const picks: MemberMessage[] = [];
  let heldOut = 0;
  const rollout = campaign.winnerRollout;
  const winner = phase === "rollout" ? winnerOf(campaign) : undefined;
  for (const userId of userIds) {
    const assignment = assignmentOf(campaign, userId);
    if (assignment.heldOut) {
      // Counted in the first reading of the audience only.
      if (phase !== "rollout") heldOut++;
      continue;
    }
    if (!rollout) {
      picks.push({ userId, assignment });
      continue;
    }
    const sampled = inSample(campaign.id, rollout.samplePercent, userId);
    if (phase === "sample" && sampled) picks.push({ userId, assignment });
    if (phase === "rollout" && !sampled) picks.push({ userId, assignment: winner as VariantAssignment });
  }
  return { picks, heldOut };
}

function winnerOf(campaign: Campaign): VariantAssignment {
  const key = campaign.winnerDecision?.winner;
  const index = key ? campaign.variants.findIndex((_, at) => variantKey(at) === key) : -1;
  const variant = campaign.variants[index];
  if (!variant) throw new Error(`campaign ${campaign.id} is rolling out without a decided winner`);
  return variantAssignment(index, variant);
}

/** The request id of a campaign's message to a user: the same on every resubmission. */
export function campaignRequestId(campaignId: string, userId: string): string {
  return `campaign:${campaignId}:${userId}`;
}

function requestOf(
  campaign: Campaign,
  templates: Map<string, Template>,
  { userId, assignment }: MemberMessage,
  receivedAt: Date,
): SendRequest {
  const template = templates.get(assignment.templateId) as Template;
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
    ...(assignment.variant ? { campaignVariant: assignment.variant } : {}),
    ...(assignment.templateVersion > 0 ? { templateVersion: assignment.templateVersion } : {}),
    receivedAt,
  };
}

function summaryOf(campaign: Campaign) {
  return campaign.statsSummary ?? { sent: 0, delivered: 0, opened: 0 };
}
