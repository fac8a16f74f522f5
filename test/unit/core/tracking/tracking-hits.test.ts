import { describe, expect, it } from "vitest";
import type { ProviderReport } from "../../../../core/sending/index.ts";
import {
  type CountedHit,
  type TrackedMessage,
  TrackingHits,
  TrackingLinks,
} from "../../../../core/tracking/index.ts";

const messageId = "0f8fad5b-d9cb-469f-a165-70867728950e";
const sentAt = new Date("2026-12-01T10:00:00Z");
const READER = { method: "GET", userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Thunderbird/115.0" };
const DAY = 86_400_000;

function setUp(message: TrackedMessage | undefined, now: Date) {
  const links = new TrackingLinks(Buffer.alloc(32, 5), "https://notify.example.ru");
  const counted: CountedHit[] = [];
  const reported: ProviderReport[] = [];
  const hits = new TrackingHits({
    links,
    messages: {
      find: async (id) => (id === messageId ? message : undefined),
      count: async (hit) => {
        counted.push(hit);
      },
    },
    feedback: {
      apply: async (reports) => {
        reported.push(...reports);
        return {
          matched: reports.length,
          unknown: 0,
          statusChanges: reports.length,
          suppressed: 0,
          unsubscribed: 0,
        };
      },
    },
    countingWindowMs: 30 * DAY,
    now: () => now,
  });
  const token = (url: string) => url.slice(url.lastIndexOf("/") + 1);
  return {
    hits,
    counted,
    reported,
    open: () => hits.read("open", token(links.openUrl(messageId, sentAt))),
    click: (target = "https://shop.example/") =>
      hits.read("click", token(links.clickUrl(messageId, target, sentAt))),
  };
}

describe("tracking hits", () => {
  it("count a reader's every click and report each as the sending provider's clicked", async () => {
    const later = new Date(sentAt.getTime() + 60_000);
    const { hits, click, counted, reported } = setUp(
      { status: "sent", provider: "email-primary", sentAt },
      later,
    );
    const link = click();
    expect(link).toMatchObject({ kind: "click", target: "https://shop.example/" });
    if (!link) return;
    expect(await hits.record(link, READER)).toEqual({ outcome: "human" });
    expect(await hits.record(link, READER)).toEqual({ outcome: "human" });
    expect(counted).toEqual([
      { messageId, kind: "click", machine: false, at: later },
      { messageId, kind: "click", machine: false, at: later },
    ]);
    // The log keeps the status once; the second report changes nothing there.
    expect(reported.map((report) => [report.provider, report.messageId, report.kind])).toEqual([
      ["email-primary", messageId, "clicked"],
      ["email-primary", messageId, "clicked"],
    ]);
  });

  it("count a machine's apart and report nothing", async () => {
    const now = new Date(sentAt.getTime() + 500);
    const { hits, open, click, counted, reported } = setUp(
      { status: "sent", provider: "email-primary", sentAt },
      now,
    );
    const opened = open();
    const clicked = click();
    if (!opened || !clicked) throw new Error("the links did not read back");
    expect(await hits.record(opened, { method: "GET", userAgent: "Mozilla/5.0" })).toEqual({
      outcome: "machine",
      reason: "apple_privacy_proxy",
    });
    expect(await hits.record(clicked, READER)).toEqual({ outcome: "machine", reason: "too_soon" });
    expect(counted.map((hit) => [hit.kind, hit.machine])).toEqual([
      ["open", true],
      ["click", true],
    ]);
    expect(reported).toEqual([]);
  });

  it("count nothing for a link past the counting window or a message gone, and refuse what is not ours", async () => {
    const { hits, click, counted } = setUp(
      { status: "sent", provider: "email-primary", sentAt },
      new Date(sentAt.getTime() + 31 * DAY),
    );
    const link = click();
    if (!link) throw new Error("the link did not read back");
    expect(await hits.record(link, READER)).toEqual({ outcome: "expired" });
    const gone = setUp(undefined, new Date(sentAt.getTime() + DAY));
    const goneLink = gone.click();
    if (!goneLink) throw new Error("the link did not read back");
    expect(await gone.hits.record(goneLink, READER)).toEqual({ outcome: "unknown_message" });
    expect([...counted, ...gone.counted]).toEqual([]);
    expect(hits.read("click", "forged.token")).toBeUndefined();
  });
});
