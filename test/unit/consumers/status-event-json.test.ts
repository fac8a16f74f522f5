import { fromJson, type JsonValue, toJsonString } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { fieldsOfMessage, fieldsOfOwnJson, statusEventReader } from "../../../consumers/stats-feed.ts";
import { STATUS_EVENT_TYPE, statusUpdatedJson, statusUpdatedOf } from "../../../consumers/status-events.ts";
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

/** 2,000 events with every field empty, missing, plain and awkward in turn, the same ones every run. */
function* awkwardEvents(): Generator<MessageStatusEvent> {
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
    yield event;
  }
}

describe("the status event's JSON data", () => {
  it("is the text protobuf-es's toJsonString writes for the contract's message, whatever the event holds", () => {
    for (const event of awkwardEvents()) {
      expect(statusUpdatedJson(event)).toBe(toJsonString(MessageStatusUpdatedSchema, statusUpdatedOf(event)));
    }
  });

  it("is read by the statistics as protobuf-es's fromJson reads it", () => {
    let compared = 0;
    for (const event of awkwardEvents()) {
      const data = JSON.parse(statusUpdatedJson(event)) as JsonValue;
      const own = fieldsOfOwnJson(data);
      expect(own).toBeDefined();
      // fromJson refuses a lone surrogate (JSON.stringify escapes it); the statistics count it.
      if (!Object.values(event).every((value) => typeof value !== "string" || value.isWellFormed())) continue;
      expect(own).toEqual(fieldsOfMessage(fromJson(MessageStatusUpdatedSchema, data)));
      compared++;
    }
    expect(compared).toBeGreaterThan(1_000);
  });
});

describe("the statistics' reader of structured status events", () => {
  const readEvent = statusEventReader({ schemaById: () => Promise.reject(new Error("no registry here")) });
  const record = (data: unknown) => ({
    value: Buffer.from(JSON.stringify({ type: STATUS_EVENT_TYPE, data })),
    headers: {},
  });
  const ours = {
    messageId: "3f0e9a40-54a4-4f43-9b61-2f5a2c1d7e11",
    requestId: "req-1",
    channel: "email",
    status: "sent",
    templateName: "welcome",
    templateVersion: 3,
    occurredAt: "2026-12-02T10:00:01.250Z",
    acceptedAt: "2026-12-02T10:00:01Z",
  };

  it("reads data in any other proto3 JSON form through fromJson", async () => {
    for (const other of [
      { ...ours, messageId: undefined, message_id: ours.messageId },
      { ...ours, templateVersion: "3" },
      { ...ours, occurredAt: "2026-12-02T13:00:01.250+03:00" },
      { ...ours, occurredAt: "2026-12-02T10:00:01.250000Z" },
      { ...ours, provider: null },
    ]) {
      expect(fieldsOfOwnJson(other as JsonValue)).toBeUndefined();
      const read = await readEvent(record(other));
      expect(read).toMatchObject({ messageId: ours.messageId, templateVersion: 3, status: "sent" });
      expect(read?.occurredAt?.toISOString()).toBe("2026-12-02T10:00:01.250Z");
    }
  });

  it("counts nothing of data neither reader takes", async () => {
    for (const broken of [
      { ...ours, templateVersion: 2 ** 31 },
      { ...ours, attempt: 1.5 },
      { ...ours, status: 7 },
      { ...ours, occurredAt: "yesterday" },
      [ours],
    ]) {
      expect(await readEvent(record(broken))).toBeUndefined();
    }
  });
});
