import { Writable } from "node:stream";
import type { Producer } from "kafkajs";
import { describe, expect, it } from "vitest";
import { CommittedEventPublisher } from "../../../consumers/committed-event-publisher.ts";
import type { CommittedEvents } from "../../../core/sending/index.ts";
import { createLogger } from "../../../server/logger.ts";

const row = (id: string): CommittedEvents => ({
  id,
  events: [{ topic: "events", key: id, value: new TextEncoder().encode(id), headers: {} }],
});

/** A producer whose sends wait until released, recording the keys of each send. */
function heldProducer() {
  const sent: string[][] = [];
  const releases: (() => void)[] = [];
  const producer = {
    sendBatch: async ({ topicMessages }: { topicMessages: { messages: { key: string }[] }[] }) => {
      sent.push(topicMessages.flatMap((topic) => topic.messages.map((message) => message.key)));
      await new Promise<void>((resolve) => releases.push(resolve));
      return [];
    },
  } as unknown as Producer;
  const releaseAll = async () => {
    for (let turn = 0; turn < 20; turn++) {
      for (const release of releases.splice(0)) release();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { producer, sent, releaseAll };
}

describe("CommittedEventPublisher", () => {
  it("publishes commits at once, and leaves those that waited longer than maxAgeMs to the relay", async () => {
    let now = 0;
    const removed: string[] = [];
    const lines: string[] = [];
    const logs = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const { producer, sent, releaseAll } = heldProducer();
    const publisher = new CommittedEventPublisher(
      producer,
      { remove: async (ids) => void removed.push(...ids) },
      { batchSize: 1, maxPending: 100, maxAgeMs: 1_000, logger: createLogger("info", logs), now: () => now },
    );
    publisher.committed([row("a")]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([["a"]]);
    // Kafka is slow: these wait behind "a", and by the time it is sent two have waited too long.
    publisher.committed([row("b"), row("c")]);
    now = 600;
    publisher.committed([row("d")]);
    now = 1_200;
    await releaseAll();
    await publisher.stop();
    expect(sent).toEqual([["a"], ["d"]]);
    expect(removed).toEqual(["a", "d"]);
    expect(lines.join("")).toContain("left to the outbox relay");
    expect(JSON.parse(lines[0] as string)).toMatchObject({ events: 2, maxAgeMs: 1_000 });
  });
});
