import { createHash } from "node:crypto";
import type { Campaign, CampaignVariant } from "./campaign.ts";

/** The variant a member is sent. */
export interface VariantAssignment {
  heldOut: false;
  /** "A", "B", … in the order of the campaign's variants; "" for a campaign of one template. */
  variant: string;
  templateId: string;
  /** 0: the template's active version. */
  templateVersion: number;
}

/** What a campaign sends one member: nothing (the hold-out), or one of its variants. */
export type Assignment = { heldOut: true } | VariantAssignment;

// Shares are in whole percent; buckets in hundredths of one keep a hash's small bias far
// below what a test of shares could see.
const BUCKETS = 10_000;
const PER_PERCENT = BUCKETS / 100;

/** The key of the variant at `index`: A, B, … (at most ten variants). */
export function variantKey(index: number): string {
  return String.fromCharCode(65 + index);
}

/**
 * The member's hold-out or variant, the same on every call, in every worker and after every
 * restart, since it hangs on the campaign's and the user's ids alone: a page resubmitted after
 * a crash gives everybody what they were given before.
 */
export function assignmentOf(
  campaign: Pick<Campaign, "id" | "templateId" | "variants" | "holdoutPercent">,
  userId: string,
): Assignment {
  const bucket = bucketOf("variant", campaign.id, userId);
  let bound = campaign.holdoutPercent * PER_PERCENT;
  if (bucket < bound) return { heldOut: true };
  if (campaign.variants.length === 0) {
    return { heldOut: false, variant: "", templateId: campaign.templateId, templateVersion: 0 };
  }
  for (const [index, variant] of campaign.variants.entries()) {
    bound += variant.sharePercent * PER_PERCENT;
    if (bucket < bound) return variantAssignment(index, variant);
  }
  // The shares and the hold-out add up to 100 (campaign-rules.ts): only a row written around
  // those rules gets here, and its last variant takes what is left.
  const last = campaign.variants.length - 1;
  return variantAssignment(last, campaign.variants[last] as CampaignVariant);
}

/**
 * Whether the member is in the winner rollout's sample. Drawn by a hash of its own, apart
 * from the variant's, so that the sample is the same cut of every variant.
 */
export function inSample(campaignId: string, samplePercent: number, userId: string): boolean {
  return bucketOf("sample", campaignId, userId) < samplePercent * PER_PERCENT;
}

export function variantAssignment(index: number, variant: CampaignVariant): VariantAssignment {
  return {
    heldOut: false,
    variant: variantKey(index),
    templateId: variant.templateId,
    templateVersion: variant.templateVersion,
  };
}

function bucketOf(draw: string, campaignId: string, userId: string): number {
  const digest = createHash("sha256").update(`${draw}\u0000${campaignId}\u0000${userId}`).digest();
  return digest.readUInt32BE(0) % BUCKETS;
}
