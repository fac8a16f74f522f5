import { describe, expect, it } from "vitest";
import { frameAvro, frameProtobuf, unframeAvro, unframeProtobuf } from "../../../consumers/index.ts";

// The message-index bytes Confluent's own Python serializer writes for these paths
// (confluent-kafka 2.x, ProtobufSerializer._encode_varints), as read from it.
const CONFLUENT_INDEXES: [number[], number[]][] = [
  [[0], [0]],
  [[1], [2, 2]],
  [
    [0, 2],
    [4, 0, 4],
  ],
  [
    [3, 1, 70],
    [6, 6, 2, 140, 1],
  ],
];
const payload = Uint8Array.of(0x0a, 0x03, 0x61, 0x62, 0x63);

describe("the Confluent wire format", () => {
  it("frames Protobuf as Confluent's serializers do, and reads their frames back", () => {
    for (const [indexes, encoded] of CONFLUENT_INDEXES) {
      const framed = frameProtobuf(258, indexes, payload);
      expect([...framed]).toEqual([0, 0, 0, 1, 2, ...encoded, ...payload]);
      expect(unframeProtobuf(framed)).toEqual({
        framed: true,
        frame: { schemaId: 258, messageIndexes: indexes, payload },
      });
    }
  });

  it("frames Avro without message indexes", () => {
    const framed = frameAvro(7, payload);
    expect([...framed]).toEqual([0, 0, 0, 0, 7, ...payload]);
    expect(unframeAvro(framed)).toEqual({
      framed: true,
      frame: { schemaId: 7, messageIndexes: [], payload },
    });
  });

  it("says why bytes are not a frame", () => {
    expect(unframeProtobuf(Uint8Array.of(0, 0, 1))).toEqual({
      framed: false,
      detail: "3 bytes are too few for the Confluent framing",
    });
    expect(unframeAvro(new TextEncoder().encode('{"specversion":"1.0"}'))).toMatchObject({
      framed: false,
      detail: expect.stringMatching(/first byte is 123/),
    });
    // A count of 40 indexes, more than any file nests.
    expect(unframeProtobuf(Uint8Array.of(0, 0, 0, 0, 1, 80))).toMatchObject({ framed: false });
    // A varint cut off in the middle.
    expect(unframeProtobuf(Uint8Array.of(0, 0, 0, 0, 1, 4, 0x80))).toMatchObject({ framed: false });
    expect(() => frameAvro(-1, payload)).toThrow(/non-negative 32-bit/);
  });
});
