import { describe, expect, it } from "vitest";
import { type CampaignUnsubscribe, CampaignUnsubscribes } from "../../../../core/campaign-report/index.ts";

const at = new Date("2026-12-01T12:00:00Z");
const scope = { userId: "u1", type: "promo", channel: "email" as const, messageId: "m1" };

function counting(messages: Record<string, { userId: string; campaignId: string; campaignVariant: string }>) {
  const recorded: CampaignUnsubscribe[] = [];
  const unsubscribes = new CampaignUnsubscribes({
    messages: { campaignMessage: async (id) => messages[id] },
    records: { record: async (row) => void recorded.push(row) },
    now: () => at,
  });
  return { unsubscribes, recorded };
}

describe("CampaignUnsubscribes", () => {
  it("counts an unsubscribe for the campaign and variant of the message its link names", async () => {
    const { unsubscribes, recorded } = counting({
      m1: { userId: "u1", campaignId: "c1", campaignVariant: "B" },
    });
    expect(await unsubscribes.unsubscribed(scope)).toBe(true);
    expect(recorded).toEqual([
      {
        at,
        messageId: "m1",
        userId: "u1",
        campaignId: "c1",
        campaignVariant: "B",
        channel: "email",
        type: "promo",
      },
    ]);
  });

  it("counts nothing for an old link without a message, a message outside a campaign, or another user's", async () => {
    const { unsubscribes, recorded } = counting({
      m2: { userId: "u2", campaignId: "c1", campaignVariant: "" },
    });
    const { messageId: _, ...old } = scope;
    expect(await unsubscribes.unsubscribed(old)).toBe(false);
    expect(await unsubscribes.unsubscribed(scope)).toBe(false);
    expect(await unsubscribes.unsubscribed({ ...scope, messageId: "m2" })).toBe(false);
    expect(recorded).toEqual([]);
  });
});
