import { describe, expect, it } from "vitest";
import type { OutboxEvent } from "../../../core/sending/index.ts";
import { packEvents, unpackEvents } from "../../../storage/index.ts";

const topic = "com.platform.notification.events.v1";

describe("an outbox row's packed events", () => {
  it("come back as they went in: keys, headers and values, in their order", () => {
    const events: OutboxEvent[] = [
      {
        topic,
        key: "m-1",
        headers: { ce_id: "1", "content-type": "application/json" },
        value: Buffer.from("{}"),
      },
      { topic, key: "ключ-2", headers: {}, value: new Uint8Array() },
      { topic, key: "", headers: { ce_type: "t" }, value: Buffer.from([0, 255, 1, 2]) },
    ];
    const unpacked = unpackEvents(topic, packEvents(events));
    expect(unpacked.map((event) => ({ ...event, value: Buffer.from(event.value) }))).toEqual(
      events.map((event) => ({ ...event, value: Buffer.from(event.value) })),
    );
  });

  it("read as the migration packs a row of one event: each field after its length in 4 big-endian bytes", () => {
    const field = (text: string) => {
      const bytes = Buffer.from(text);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return Buffer.concat([length, bytes]);
    };
    const row = Buffer.concat([field("m-9"), field('{"ce_id": "9"}'), field("sent")]);
    const [event] = unpackEvents(topic, row);
    expect(event?.key).toBe("m-9");
    expect(event?.headers).toEqual({ ce_id: "9" });
    expect(Buffer.from(event?.value ?? []).toString()).toBe("sent");
  });

  it("refuse a row cut inside an event", () => {
    const packed = packEvents([{ topic, key: "m-1", headers: {}, value: Buffer.from("value") }]);
    expect(() => unpackEvents(topic, packed.subarray(0, packed.length - 2))).toThrow(/ends inside an event/);
  });
});
