import type { Campaign, VariantFigures, WinnerDecision, WinnerMetric } from "./campaign.ts";
import type { VariantOutcome } from "./campaign-store.ts";
import { variantKey } from "./variant-assignment.ts";

/**
 * The variant whose sample did best by the rollout's metric: the highest rate, and on a tie
 * the one that reached more readers, then the first in order, so that a sample nobody opened
 * still gives a winner (the first variant, the marketer's default).
 */
export function decideWinner(
  campaign: Pick<Campaign, "variants">,
  metric: WinnerMetric,
  outcomes: readonly VariantOutcome[],
  at: Date,
): WinnerDecision {
  const byKey = new Map(outcomes.map((outcome) => [outcome.variant, outcome]));
  const variants: VariantFigures[] = campaign.variants.map((variant, index) => {
    const key = variantKey(index);
    const outcome = byKey.get(key) ?? { variant: key, sent: 0, opened: 0, clicked: 0 };
    const hits = metric === "open_rate" ? outcome.opened : outcome.clicked;
    return {
      variant: key,
      templateId: variant.templateId,
      sent: outcome.sent,
      opened: outcome.opened,
      clicked: outcome.clicked,
      rate: outcome.sent > 0 ? hits / outcome.sent : 0,
    };
  });
  const [first, ...rest] = variants;
  if (!first) throw new Error("a winner is picked between variants: the campaign has none");
  let best = first;
  for (const figures of rest) {
    if (figures.rate > best.rate || (figures.rate === best.rate && figures.sent > best.sent)) best = figures;
  }
  return { metric, winner: best.variant, decidedAt: at, variants };
}
