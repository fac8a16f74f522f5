import { randomUUID } from "node:crypto";
import { type Caller, machineCaller } from "../caller.ts";
import { DomainError, ErrorCatalog, type ErrorProblem } from "../errors.ts";
import type { TemplateStore } from "../templates/index.ts";
import type { Audiences } from "./audiences.ts";
import type { Campaign, CampaignDraft, CampaignFilter, CampaignPage } from "./campaign.ts";
import type { CampaignEventEncoder, CampaignStatusChange } from "./campaign-events.ts";
import { fittedDraft, requireCampaign, requireRevision } from "./campaign-rules.ts";
import { advance, assertEditable, type CampaignCommand, stepsOf } from "./campaign-status.ts";
import type { CampaignStore } from "./campaign-store.ts";

export interface CampaignManagerDeps {
  store: CampaignStore;
  templates: Pick<TemplateStore, "get" | "getVersion">;
  events: CampaignEventEncoder;
  audiences: Pick<Audiences, "problemOf" | "find">;
}

// Where a draft's audience is, in the campaign as it is created and updated.
const TARGET_POINTER = "/campaign/target_segment_id";

// Who the service is when it changes a campaign itself: the spec's updatedBy "system".
const SYSTEM = machineCaller("system");

/** Campaigns' use cases: drafts, and every change of status along the one state machine. */
export class CampaignManager {
  constructor(private readonly deps: CampaignManagerDeps) {}

  async create(draft: CampaignDraft, caller: Caller): Promise<Campaign> {
    const fitted = fittedDraft(draft);
    this.assertAudienceNamed(fitted);
    await this.assertTemplatesExist(fitted);
    const at = new Date();
    const campaign: Campaign = {
      ...fitted,
      id: randomUUID(),
      status: "draft",
      scheduledAt: null,
      startedAt: null,
      completedAt: null,
      createdBy: caller.subject,
      updatedBy: caller.subject,
      statsSummary: null,
      winnerDecision: null,
      revision: 1,
      createdAt: at,
      updatedAt: at,
    };
    const created: CampaignStatusChange = {
      campaignId: campaign.id,
      campaignName: campaign.name,
      newStatus: "draft",
      previousStatus: "",
      changedAt: at,
      updatedBy: caller.subject,
      revision: campaign.revision,
    };
    return this.deps.store.create(
      { campaign, action: "campaign.create", events: this.deps.events.encode([created]) },
      caller,
    );
  }

  async get(id: string): Promise<Campaign> {
    return requireCampaign(id, await this.deps.store.get(id));
  }

  list(filter: CampaignFilter): Promise<CampaignPage> {
    return this.deps.store.list(filter);
  }

  /** Replaces a draft's fields; refused for a campaign past draft. */
  async update(
    id: string,
    draft: CampaignDraft,
    expectedRevision: number,
    caller: Caller,
  ): Promise<Campaign> {
    const fitted = fittedDraft(draft);
    this.assertAudienceNamed(fitted);
    assertEditable(await this.get(id));
    await this.assertTemplatesExist(fitted);
    return this.deps.store.change(id, caller, (current) => {
      const campaign = requireCampaign(id, current);
      requireRevision(campaign, expectedRevision);
      assertEditable(campaign);
      return {
        campaign: {
          ...campaign,
          ...fitted,
          updatedBy: caller.subject,
          updatedAt: new Date(),
          revision: campaign.revision + 1,
        },
        action: "campaign.update",
        events: [],
      };
    });
  }

  async schedule(id: string, scheduledAt: Date, caller: Caller): Promise<Campaign> {
    if (scheduledAt.getTime() <= Date.now()) {
      throw new DomainError(ErrorCatalog.validation, "scheduled_time must be in the future", {
        pointer: "/scheduled_time",
      });
    }
    return this.move(id, "schedule", caller, scheduledAt);
  }

  /** A scheduled campaign becomes active now; a draft is scheduled for now and made active in the same step. */
  start(id: string, caller: Caller): Promise<Campaign> {
    return this.move(id, "start", caller);
  }

  pause(id: string, caller: Caller): Promise<Campaign> {
    return this.move(id, "pause", caller);
  }

  resume(id: string, caller: Caller): Promise<Campaign> {
    return this.move(id, "resume", caller);
  }

  /** Ends an active or paused campaign before it reached its whole audience. */
  complete(id: string, caller: Caller): Promise<Campaign> {
    return this.move(id, "complete", caller);
  }

  archive(id: string, caller: Caller): Promise<Campaign> {
    return this.move(id, "archive", caller);
  }

  /**
   * Makes active, as the service itself, up to `limit` scheduled campaigns whose time has come
   * (those another process is starting are left to it). Answers how many it started.
   */
  startDue(limit: number): Promise<number> {
    const at = new Date();
    return this.deps.store.takeDue(at, limit, SYSTEM, (due) => {
      const { campaign, change } = advance(due, "active", { by: SYSTEM.subject, at });
      return { campaign, action: "campaign.start", events: this.deps.events.encode([change]) };
    });
  }

  private async move(
    id: string,
    command: CampaignCommand,
    caller: Caller,
    scheduledAt?: Date,
  ): Promise<Campaign> {
    const checked = await this.get(id);
    // Refused before anything is looked up; a draft leaving draft must be ready to be sent.
    stepsOf(id, command, checked.status);
    if (checked.status === "draft") await this.assertReady(checked);
    return this.deps.store.change(id, caller, (current) => {
      let campaign = requireCampaign(id, current);
      if (campaign.status === "draft" && campaign.revision !== checked.revision) {
        throw new DomainError(
          ErrorCatalog.conflict,
          `campaign ${id} was edited meanwhile: read it again and retry`,
        );
      }
      const at = new Date();
      const changes: CampaignStatusChange[] = [];
      for (const status of stepsOf(id, command, campaign.status)) {
        const step = advance(campaign, status, {
          by: caller.subject,
          at,
          ...(scheduledAt ? { scheduledAt } : {}),
        });
        campaign = step.campaign;
        changes.push(step.change);
      }
      return { campaign, action: `campaign.${command}`, events: this.deps.events.encode(changes) };
    });
  }

  /** Every template the draft names exists, and so does every version it names (NOT_FOUND, pointing at it). */
  private async assertTemplatesExist(draft: CampaignDraft): Promise<void> {
    const problems = await this.templateProblems(draft, { sendable: false });
    const [problem, ...more] = problems;
    if (problem) throw new DomainError(ErrorCatalog.notFound, problem.detail, problem.source, more);
  }

  /**
   * A draft's target_segment_id, when it has one, names a segment of a source this service
   * reads (VALIDATION_ERROR otherwise); whether the segment exists is asked when it leaves draft.
   */
  private assertAudienceNamed(draft: CampaignDraft): void {
    if (!draft.targetSegmentId) return;
    const problem = this.deps.audiences.problemOf(draft.targetSegmentId);
    if (problem) throw new DomainError(ErrorCatalog.validation, problem, { pointer: TARGET_POINTER });
  }

  /** What sending needs of a draft: an audience that exists and can be sent to, and templates that can still be sent. */
  private async assertReady(campaign: Campaign): Promise<void> {
    const problems: ErrorProblem[] = [];
    const target = campaign.targetSegmentId;
    const named = target ? this.deps.audiences.problemOf(target) : "";
    if (!target) {
      problems.push({
        detail: `campaign ${campaign.id} has no target_segment_id: choose its audience in the draft first`,
        source: {},
      });
    } else if (named) {
      // A draft saved before its source was known, or with one no longer configured.
      problems.push({ detail: `campaign ${campaign.id}: ${named}`, source: {} });
    }
    // The pointers are into the draft, not into this request: said in words instead.
    for (const problem of await this.templateProblems(campaign, { sendable: true })) {
      problems.push({ detail: `campaign ${campaign.id}: ${problem.detail}`, source: {} });
    }
    const [problem, ...more] = problems;
    if (problem) throw new DomainError(ErrorCatalog.failedPrecondition, problem.detail, problem.source, more);
    const segment = await this.deps.audiences.find(target);
    // NOT_FOUND points at the draft's field, where it is put right (PUT the draft).
    if (!segment) {
      throw new DomainError(
        ErrorCatalog.notFound,
        `campaign ${campaign.id}: its target segment ${target} does not exist: choose an existing segment in the draft`,
        { pointer: TARGET_POINTER },
      );
    }
    if (!segment.ready) {
      throw new DomainError(
        ErrorCatalog.failedPrecondition,
        `campaign ${campaign.id}: segment ${target} has no members yet: upload them first`,
      );
    }
  }

  private async templateProblems(
    draft: CampaignDraft,
    { sendable }: { sendable: boolean },
  ): Promise<ErrorProblem[]> {
    const named =
      draft.variants.length > 0
        ? draft.variants.map((variant, index) => ({
            templateId: variant.templateId,
            version: variant.templateVersion,
            at: `/campaign/variants/${index}`,
          }))
        : [{ templateId: draft.templateId, version: 0, at: "/campaign" }];
    const problems: ErrorProblem[] = [];
    for (const { templateId, version, at } of named) {
      const template = await this.deps.templates.get(templateId);
      if (!template) {
        problems.push({
          detail: `template ${templateId} does not exist`,
          source: { pointer: `${at}/template_id` },
        });
      } else if (version > 0 && !(await this.deps.templates.getVersion(templateId, version))) {
        problems.push({
          detail: `template ${templateId} has no version ${version}`,
          source: { pointer: `${at}/template_version` },
        });
      } else if (sendable && version === 0 && template.activeVersion === 0) {
        problems.push({
          detail: `template ${templateId} has no active version: activate one, or name the version to send`,
          source: { pointer: `${at}/template_id` },
        });
      }
    }
    return problems;
  }
}
