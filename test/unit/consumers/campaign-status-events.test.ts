import { describe, expect, it } from "vitest";
import { StructuredCampaignEvents } from "../../../consumers/index.ts";
import { specCampaignStatusChanged } from "../../support/spec-examples.ts";

describe("StructuredCampaignEvents", () => {
  const encoder = new StructuredCampaignEvents();
  const change = {
    campaignId: "campaign-uuid-abc",
    campaignName: "Весенняя распродажа - Анонс",
    newStatus: "active" as const,
    previousStatus: "scheduled" as const,
    changedAt: new Date("2024-03-20T08:00:00Z"),
    updatedBy: "system",
    revision: 3,
  };

  it("writes the specification's data exactly, in a structured CloudEvent keyed by campaign", () => {
    const [event] = encoder.encode([change]);
    expect(event).toMatchObject({
      topic: "com.platform.notification.events.v1",
      key: "campaign-uuid-abc",
      headers: { "content-type": "application/cloudevents+json; charset=UTF-8" },
    });
    const envelope = JSON.parse(Buffer.from(event?.value ?? []).toString("utf8"));
    expect(envelope).toEqual({
      specversion: "1.0",
      id: "campaign-uuid-abc:3",
      source: "/notification-service",
      type: "com.platform.notification.campaign.status.changed.v1",
      subject: "campaign-uuid-abc",
      time: "2024-03-20T08:00:00.000Z",
      datacontenttype: "application/json",
      data: JSON.parse(specCampaignStatusChanged),
    });
  });

  it("keeps the empty previous status of a creation, so the data always has all six fields", () => {
    const [event] = encoder.encode([
      { ...change, newStatus: "draft", previousStatus: "", updatedBy: "marketer-1" },
    ]);
    const { data } = JSON.parse(Buffer.from(event?.value ?? []).toString("utf8"));
    expect(Object.keys(data).sort()).toEqual(
      ["campaignId", "campaignName", "changeTimestamp", "newStatus", "previousStatus", "updatedBy"].sort(),
    );
    expect(data).toMatchObject({ newStatus: "draft", previousStatus: "" });
  });
});
