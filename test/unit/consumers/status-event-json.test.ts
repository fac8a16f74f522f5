import { toJsonString } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { statusUpdatedJson, statusUpdatedOf } from "../../../consumers/status-events.ts";
import { CHANNELS } from "../../../core/channels.ts";
import { MESSAGE_STATUSES, type MessageStatusEvent } from "../../../core/sending/index.ts";
import { MessageStatusUpdatedSchema } from "../../../gen/platform/notification/events/v1/message_status_updated_pb.ts";

// Strings JSON must escape, or that are easy to get wrong by hand.
const AWKWARD = [
  "",
  "plain",
  'a "quoted" \\ back',
  "line\nbreak\ttab\u0001",
  "Ünïcödé ✓ 𝄞",
  "\u2028\u2029",
  "\ud800",
];

describe("the status event's JSON data", () => {
  it("is the text protobuf-es's toJsonString writes for the contract's message, whatever the event holds", () => {
    let seed = 11;
    const pick = <T>(values: readonly T[]): T => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return values[seed % values.length] as T;
    };
    const maybe = (): string | undefined => pick([undefined, ...AWKWARD]);
    for (let index = 0; index < 2_000; index++) {
      const event: MessageStatusEvent = {
        messageId: pick(["3f0e9a40-54a4-4f43-9b61-2f5a2c1d7e11", ...AWKWARD.slice(1)]),
        requestId: pick(AWKWARD),
        channel: pick(CHANNELS),
        status: pick(MESSAGE_STATUSES),
        templateName: pick(AWKWARD),
        templateVersion: pick([0, 1, 42, 2_147_483_647]),
        attempt: pick([0, 1, 3]),
        // Whole seconds (no fraction in JSON), milliseconds, and before 1970.
        occurredAt: new Date(pick([1_764_000_000_000, 1_764_000_000_123, -1, 0, 253_402_300_799_999])),
        acceptedAt: new Date(pick([1_764_000_000_000, 1_764_000_000_007])),
        priority: pick(["high", "normal", "low"] as const),
      };
      for (const field of [
        "correlationId",
        "campaignId",
        "campaignVariant",
        "userId",
        "reason",
        "reasonDetail",
        "provider",
        "providerMessageId",
      ] as const) {
        const value = maybe();
        if (value !== undefined) event[field] = value;
      }
      expect(statusUpdatedJson(event)).toBe(toJsonString(MessageStatusUpdatedSchema, statusUpdatedOf(event)));
    }
  });
});
