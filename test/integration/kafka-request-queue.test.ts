import "../../server/infrastructure.ts";
import { createRequire } from "node:module";
import { setTimeout as pause } from "node:timers/promises";
import { Kafka, logLevel } from "kafkajs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { localServices } from "../support/services.ts";

// The request queue every kafkajs connection keeps, as the process's infrastructure leaves it
// (server/kafka-request-queue.ts): no timer while nothing waits, and what waits still goes.

interface Entry {
  correlationId: number;
  apiName: string;
  apiKey: number;
  apiVersion: number;
  resolve: () => void;
  reject: (error: Error) => void;
}
interface RequestQueue {
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  push(request: { entry: Entry; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(milliseconds: number): void;
  checkPendingRequests(): void;
}
type RequestQueueClass = {
  new (options: object): RequestQueue;
  prototype: RequestQueue;
};

const require = createRequire(import.meta.url);
const RequestQueue = require("kafkajs/src/network/requestQueue/index.js") as RequestQueueClass;
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function queue(maxInFlightRequests: number | null) {
  const sent: number[] = [];
  const requests = new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: "request-queue-test",
    broker: "127.0.0.1:9",
    logger: silent,
  });
  const push = (correlationId: number) =>
    requests.push({
      entry: { correlationId, apiName: "Fetch", apiKey: 1, apiVersion: 11, resolve() {}, reject() {} },
      expectResponse: true,
      sendRequest: () => sent.push(correlationId),
    });
  const answer = (correlationId: number) =>
    requests.fulfillRequest({ correlationId, payload: Buffer.alloc(0), size: 0 });
  return { requests, sent, push, answer };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a kafkajs connection's request queue", () => {
  it("arms no timer once its last request is answered", () => {
    const { requests, push, answer } = queue(null);
    push(1);
    answer(1);
    expect(requests.throttleCheckTimeoutId).toBeNull();
  });

  it("sends a request held by the in-flight limit as soon as the one before it is answered", async () => {
    const { requests, sent, push, answer } = queue(1);
    push(1);
    push(2);
    push(3);
    expect(sent).toEqual([1]);
    answer(1);
    expect(sent).toEqual([1, 2]);
    answer(2);
    answer(3);
    expect(sent).toEqual([1, 2, 3]);
    // The check armed while requests waited runs once more, finds none, and arms no other.
    await pause(50);
    expect(requests.throttleCheckTimeoutId).toBeNull();
  });

  it("sends a request held by the broker's throttle when the throttle ends, by itself", async () => {
    const { requests, sent, push } = queue(null);
    requests.maybeThrottle(40);
    push(1);
    expect(sent).toEqual([]);
    await pause(100);
    expect(sent).toEqual([1]);
    expect(requests.throttleCheckTimeoutId).toBeNull();
  });

  it("on a real connection left idle, is not checked every millisecond", async () => {
    const checks = vi.spyOn(RequestQueue.prototype, "checkPendingRequests");
    const kafka = new Kafka({
      clientId: "request-queue-test",
      brokers: localServices().kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.listTopics();
      const before = checks.mock.calls.length;
      await pause(500);
      // kafkajs 2.2.4 as published re-arms its check every millisecond: hundreds here.
      expect(checks.mock.calls.length - before).toBeLessThan(5);
    } finally {
      await admin.disconnect();
    }
  });
});
