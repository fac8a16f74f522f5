import { describe, expect, it } from "vitest";
import { DISPATCH_TOPICS, JOBS_PER_RECORD, SealedDispatchQueue } from "../../../consumers/index.ts";
import type { DispatchJob, Priority } from "../../../core/sending/index.ts";
import { testCipher } from "../../support/recipient-cipher.ts";

const cipher = testCipher();
const queue = new SealedDispatchQueue(cipher);

function job(index: number, priority: Priority, body = `body ${index}`): DispatchJob {
  const messageId = `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`;
  return {
    message: {
      messageId,
      destination: { channel: "email", email: `user${index}@example.com` },
      subject: "subject",
      body,
      bodyHtml: "",
      priority,
      expiresAt: new Date("2030-01-01T00:00:00Z"),
    },
    event: {
      messageId,
      requestId: `request-${index}`,
      channel: "email",
      templateName: "welcome",
      templateVersion: 1,
      attempt: 0,
      acceptedAt: new Date("2026-12-01T00:00:00Z"),
      priority,
    },
  };
}

describe("the sealed dispatch queue", () => {
  it("packs jobs of one priority into records of at most JOBS_PER_RECORD, on that priority's topic", () => {
    const jobs = [
      ...Array.from({ length: JOBS_PER_RECORD + 1 }, (_, index) => job(index, "low")),
      job(9_000, "high"),
    ];
    const records = queue.encode(jobs);
    expect(records.map((record) => record.topic)).toEqual([
      DISPATCH_TOPICS.low,
      DISPATCH_TOPICS.low,
      DISPATCH_TOPICS.high,
    ]);
    const opened = records.map((record) => queue.decode(record.key, record.value));
    expect(opened.map((each) => each.length)).toEqual([JOBS_PER_RECORD, 1, 1]);
    expect(opened.flat()).toEqual([...jobs.slice(0, JOBS_PER_RECORD + 1), jobs.at(-1)]);
  });

  it("starts a new record before one grows past its bytes, and seals the address and body", () => {
    const big = "x".repeat(100 * 1024);
    const records = queue.encode([job(1, "normal", big), job(2, "normal", big), job(3, "normal", big)]);
    expect(records.map((record) => queue.decode(record.key, record.value).length)).toEqual([2, 1]);
    const text = records.map((record) => Buffer.from(record.value).toString()).join();
    expect(text).not.toContain("user1@example.com");
    // A run of the body's 100 KiB of x: random base64 holds "xxxx" by chance, never 64 of them.
    expect(text).not.toContain("x".repeat(64));
  });

  it("refuses a record under another key, and still opens one job sealed alone under its message id", () => {
    const [record] = queue.encode([job(1, "normal")]);
    if (!record) throw new Error("no record");
    expect(() => queue.decode("another-key", record.value)).toThrow();
    // A record from before jobs were batched: one job, its message id as the key.
    const single = job(7, "normal");
    const sealed = cipher.seal(JSON.stringify(single), `dispatch:${single.message.messageId}`);
    expect(queue.decode(single.message.messageId, Buffer.from(sealed))).toEqual([single]);
  });
});
