import type { OutboxEvent } from "../../../core/sending/index.ts";

// One outbox row holds the events of one topic that one transaction enqueued: a row and an
// index entry per transaction instead of per event. Each event is its key, its headers as
// JSON and its value, each after its length in 4 bytes (big-endian), like the migration
// that folded the rows of one event each writes them with int4send.

/** The events (all of one topic) as the value of one row. */
export function packEvents(events: OutboxEvent[]): Buffer {
  const parts = events.map((event) => [
    Buffer.from(event.key, "utf8"),
    Buffer.from(JSON.stringify(event.headers), "utf8"),
    event.value,
  ]);
  const size = parts.reduce(
    (sum, fields) => sum + fields.reduce((of, field) => of + 4 + field.byteLength, 0),
    0,
  );
  const packed = Buffer.allocUnsafe(size);
  let at = 0;
  for (const fields of parts) {
    for (const field of fields) {
      at = packed.writeUInt32BE(field.byteLength, at);
      packed.set(field, at);
      at += field.byteLength;
    }
  }
  return packed;
}

/** The events of a row; their values are views of `packed`, not copies. */
export function unpackEvents(topic: string, packed: Buffer): OutboxEvent[] {
  const events: OutboxEvent[] = [];
  let at = 0;
  const next = () => {
    const length = packed.readUInt32BE(at);
    const field = packed.subarray(at + 4, at + 4 + length);
    if (field.byteLength !== length) throw new Error(`an outbox row ends inside an event, at byte ${at}`);
    at += 4 + length;
    return field;
  };
  while (at < packed.byteLength) {
    const key = next().toString("utf8");
    const headers = JSON.parse(next().toString("utf8")) as Record<string, string>;
    events.push({ topic, key, headers, value: next() });
  }
  return events;
}
