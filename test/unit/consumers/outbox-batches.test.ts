import { describe, expect, it } from "vitest";
import { batchesOf } from "../../../consumers/outbox-relay.ts";
import type { OutboxEvent } from "../../../core/sending/index.ts";

const event = (bytes: number, key = "k"): OutboxEvent => ({
  topic: "t",
  key,
  value: new Uint8Array(bytes),
  headers: {},
});

describe("outbox batches", () => {
  it("splits by count and by bytes, keeping the order, and sends an oversized event alone", () => {
    const events = [event(99), event(99), event(99), event(500), event(99), event(99)];
    const sizes = (batches: OutboxEvent[][]) =>
      batches.map((batch) => batch.map((each) => each.value.byteLength));
    expect(sizes(batchesOf(events, 2, 10_000))).toEqual([
      [99, 99],
      [99, 500],
      [99, 99],
    ]);
    expect(sizes(batchesOf(events, 100, 250))).toEqual([[99, 99], [99], [500], [99, 99]]);
    expect(batchesOf([], 10, 10)).toEqual([]);
  });
});
