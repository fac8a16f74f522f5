import { DomainError, ErrorCatalog, type ErrorProblem } from "../errors.ts";
import type { Campaign, CampaignDraft } from "./campaign.ts";

/**
 * The draft as it is stored, or a validation error naming every problem: a campaign sends one
 * template (template_id) or two or more A/B variants, and the shares of the variants and the
 * hold-out cover the whole audience. With variants, template_id is the first variant's; a
 * winner rollout needs variants to pick from.
 */
export function fittedDraft(draft: CampaignDraft): CampaignDraft {
  const variants = draft.variants.map((variant) => ({
    ...variant,
    templateId: variant.templateId.toLowerCase(),
  }));
  const templateId = draft.templateId.toLowerCase();
  const first = variants[0];
  const problems: ErrorProblem[] = [];
  if (!first && !templateId) {
    problems.push({
      detail: "a campaign needs the template it sends (template_id), or A/B variants",
      source: { pointer: "/campaign/template_id" },
    });
  }
  if (variants.length === 1) {
    problems.push({
      detail: "one variant is no A/B test: give its template as template_id, or two or more variants",
      source: { pointer: "/campaign/variants" },
    });
  }
  if (draft.winnerRollout && variants.length < 2) {
    problems.push({
      detail: "a winner rollout picks between A/B variants: give two or more variants, or no winner_rollout",
      source: { pointer: "/campaign/winner_rollout" },
    });
  }
  if (first) {
    const shares = variants.reduce((sum, variant) => sum + variant.sharePercent, 0);
    const wanted = 100 - draft.holdoutPercent;
    if (shares !== wanted) {
      problems.push({
        detail: `the variants' shares add up to ${shares}%; with a hold-out of ${draft.holdoutPercent}% they must add up to ${wanted}%`,
        source: { pointer: "/campaign/variants" },
      });
    }
    if (templateId && templateId !== first.templateId) {
      problems.push({
        detail: "with variants, template_id is the first variant's template: leave it empty or give that one",
        source: { pointer: "/campaign/template_id" },
      });
    }
  }
  const [problem, ...more] = problems;
  if (problem) throw new DomainError(ErrorCatalog.validation, problem.detail, problem.source, more);
  return { ...draft, templateId: first?.templateId ?? templateId, variants };
}

/** The campaign, or NOT_FOUND when there is none. */
export function requireCampaign(id: string, found: Campaign | undefined): Campaign {
  if (!found) throw campaignNotFound(id);
  return found;
}

/** Refuses a write based on another revision than the current one, unless `expected` is 0. */
export function requireRevision(campaign: Campaign, expected: number): void {
  if (expected !== 0 && campaign.revision !== expected) {
    throw new DomainError(
      ErrorCatalog.staleRevision,
      `campaign ${campaign.id} is at revision ${campaign.revision}, not ${expected}: read it again and retry`,
      { pointer: "/expected_revision" },
    );
  }
}

export function campaignNotFound(id: string): DomainError {
  return new DomainError(ErrorCatalog.notFound, `campaign ${id} does not exist`, { pointer: "/campaign_id" });
}
