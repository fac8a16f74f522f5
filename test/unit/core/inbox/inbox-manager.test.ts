import { describe, expect, it } from "vitest";
import type { ChangedInboxMessage, InboxStore } from "../../../../core/inbox/index.ts";
import { InboxManager } from "../../../../core/inbox/index.ts";
import type { Logger } from "../../../../core/logger.ts";
import type { FeedbackOutcome, ProviderReport } from "../../../../core/sending/index.ts";

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const acked: ChangedInboxMessage[] = [{ seq: 1, messageId: "7f0c3a52-7b1e-4b8e-9a53-2f1b8a0c9d11" }];

function manager() {
  const applied: ProviderReport[][] = [];
  const store = { acknowledge: async () => acked } as unknown as InboxStore;
  const inbox = new InboxManager({
    store,
    live: { publish: async () => {} },
    feedback: {
      apply: async (reports: ProviderReport[]): Promise<FeedbackOutcome> => {
        applied.push(reports);
        return { matched: reports.length, unknown: 0, statusChanges: 0, suppressed: 0, unsubscribed: 0 };
      },
    },
    logger: silent,
  });
  return { inbox, applied };
}

describe("the inbox's reports of acks and reads", () => {
  it("reports an acked message delivered, by its message id, as the in-app provider", async () => {
    const { inbox, applied } = manager();
    expect(await inbox.acknowledge("u", 1)).toBe(1);
    expect(applied).toEqual([
      [expect.objectContaining({ provider: "in-app", kind: "delivered", messageId: acked[0]?.messageId })],
    ]);
  });
});
