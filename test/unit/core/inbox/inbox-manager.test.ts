import { describe, expect, it } from "vitest";
import type { ChangedInboxMessage, InboxStore } from "../../../../core/inbox/index.ts";
import { InboxManager } from "../../../../core/inbox/index.ts";
import type { Logger } from "../../../../core/logger.ts";
import type { FeedbackOutcome, ProviderReport } from "../../../../core/sending/index.ts";

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const acked: ChangedInboxMessage[] = [{ seq: 1, messageId: "7f0c3a52-7b1e-4b8e-9a53-2f1b8a0c9d11" }];

function manager(unknownFor: number, delays: number[]) {
  const applied: ProviderReport[][] = [];
  const store = { acknowledge: async () => acked } as unknown as InboxStore;
  const inbox = new InboxManager({
    store,
    live: { publish: async () => {} },
    feedback: {
      apply: async (reports: ProviderReport[]): Promise<FeedbackOutcome> => {
        applied.push(reports);
        const unknown = applied.length <= unknownFor ? reports.length : 0;
        return {
          matched: reports.length - unknown,
          unknown,
          statusChanges: 0,
          suppressed: 0,
          unsubscribed: 0,
        };
      },
    },
    logger: silent,
    reportRetryDelaysMs: delays,
  });
  return { inbox, applied };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("the inbox's reports of acks and reads", () => {
  it("applies a report again while its message is not recorded as sent, until it is", async () => {
    const { inbox, applied } = manager(2, [1, 1, 1, 1]);
    expect(await inbox.acknowledge("u", 1)).toBe(1);
    await settle();
    expect(applied).toHaveLength(3);
    expect(applied[2]).toEqual([
      expect.objectContaining({ kind: "delivered", messageId: acked[0]?.messageId }),
    ]);
  });

  it("gives up after its last delay", async () => {
    const { inbox, applied } = manager(100, [1, 1]);
    await inbox.acknowledge("u", 1);
    await settle();
    expect(applied).toHaveLength(3);
  });

  it("applies a report once when its message is known", async () => {
    const { inbox, applied } = manager(0, [1, 1]);
    await inbox.acknowledge("u", 1);
    await settle();
    expect(applied).toHaveLength(1);
  });
});
