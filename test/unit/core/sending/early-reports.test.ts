import { describe, expect, it } from "vitest";
import type { Logger } from "../../../../core/logger.ts";
import { EarlyReports, type FeedbackOutcome, type ProviderReport } from "../../../../core/sending/index.ts";

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const report: ProviderReport = {
  provider: "sms-primary",
  at: new Date("2026-12-01T12:00:00Z"),
  providerMessageId: "000000-10000001",
  kind: "delivered",
};

/** EarlyReports over feedback that knows the message from its `knownFrom`-th try on. */
function early(knownFrom: number, delays: number[]) {
  const applied: ProviderReport[][] = [];
  const reports = new EarlyReports({
    feedback: {
      apply: async (batch: ProviderReport[]): Promise<FeedbackOutcome> => {
        applied.push(batch);
        const unknown = applied.length < knownFrom ? batch.length : 0;
        return { matched: batch.length - unknown, unknown, statusChanges: 0, suppressed: 0, unsubscribed: 0 };
      },
    },
    logger: silent,
    retryDelaysMs: delays,
  });
  return { reports, applied };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("EarlyReports", () => {
  it("applies a report again while its message is not recorded as sent, until it is", async () => {
    const { reports, applied } = early(3, [1, 1, 1, 1]);
    expect((await reports.apply([report])).unknown).toBe(1);
    await settle();
    expect(applied).toEqual([[report], [report], [report]]);
  });

  it("gives up after its last delay", async () => {
    const { reports, applied } = early(100, [1, 1]);
    await reports.apply([report]);
    await settle();
    expect(applied).toHaveLength(3);
  });

  it("applies a report once when its message is known", async () => {
    const { reports, applied } = early(1, [1, 1]);
    await reports.apply([report]);
    await settle();
    expect(applied).toHaveLength(1);
  });
});
