import { randomBytes, randomUUID } from "node:crypto";
import { Partitioners, type PartitionMetadata } from "kafkajs";
import { describe, expect, it } from "vitest";
import { keyPartitioner, murmur2 } from "../../../consumers/index.ts";

const partitions = (count: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
  }));

describe("the key partitioner", () => {
  it("hashes as Kafka's own murmur2 does (the Java client's UtilsTest vectors)", () => {
    const vectors: [string, number][] = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      ["abc", 479470107],
    ];
    for (const [key, hash] of vectors) expect(murmur2(Buffer.from(key)), key).toBe(hash);
  });

  it("puts every key where kafkajs's DefaultPartitioner puts it", () => {
    const ours = keyPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys: (string | Buffer)[] = [
      "",
      "ключ сообщения",
      ...Array.from({ length: 2_000 }, () => randomUUID()),
      ...Array.from({ length: 2_000 }, (_, index) => randomBytes(index % 67)),
    ];
    for (const count of [1, 3, 6, 7, 64]) {
      const partitionMetadata = partitions(count);
      for (const key of keys) {
        const message = { key, value: "v" };
        expect(ours({ topic: "t", partitionMetadata, message })).toBe(
          theirs({ topic: "t", partitionMetadata, message }),
        );
      }
    }
  });

  it("keeps a partition given, and sends keyless records round the partitions with a leader", () => {
    const choose = keyPartitioner();
    const partitionMetadata = partitions(4, [2]);
    expect(choose({ topic: "t", partitionMetadata, message: { key: "k", value: "v", partition: 2 } })).toBe(
      2,
    );
    const chosen = Array.from({ length: 300 }, () =>
      choose({ topic: "t", partitionMetadata, message: { value: "v" } }),
    );
    expect(new Set(chosen)).toEqual(new Set([0, 1, 3]));
    for (const partition of [0, 1, 3]) expect(chosen.filter((each) => each === partition)).toHaveLength(100);
  });
});
