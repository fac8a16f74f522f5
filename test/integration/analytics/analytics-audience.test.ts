import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DomainError } from "../../../core/errors.ts";
import {
  type AnalyticsPeer,
  seededMember,
  startAnalyticsPeer,
} from "../../../scripts/analytics-peer/analytics-peer.ts";
import { createLogger } from "../../../server/logger.ts";
import {
  AnalyticsAudience,
  type AnalyticsClientOptions,
  createAnalyticsClient,
} from "../../../storage/index.ts";

// The Analytics Service client against the local peer that serves the contract: pages that
// resume from a cursor, retries through transient faults, and clear errors for what does not pass.
const TOKEN = "analytics-test-token";
let peer: AnalyticsPeer;

function audience(options: Partial<AnalyticsClientOptions> = {}): AnalyticsAudience {
  return new AnalyticsAudience(
    createAnalyticsClient({
      url: peer.url,
      timeoutMs: 1_000,
      attempts: 4,
      token: TOKEN,
      logger: createLogger("silent"),
      ...options,
    }),
  );
}

async function refusal(promise: Promise<unknown>): Promise<[string, string]> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return [(error as DomainError).entry.code, (error as DomainError).detail];
}

beforeAll(async () => {
  peer = await startAnalyticsPeer({
    token: TOKEN,
    segments: {
      "spring-buyers": { displayName: "Покупатели весны", size: 2_500 },
      uncounted: { displayName: "Без счёта", size: 3, counted: false },
    },
  });
});

afterAll(() => peer.close());

beforeEach(() => {
  peer.clear();
  peer.setFault({ mode: "none" });
});

describe("AnalyticsAudience against the Analytics Service peer", () => {
  it("describes a segment, with its size when the service counts it, and none it does not have", async () => {
    const source = audience();
    expect(await source.segment("spring-buyers")).toEqual({
      name: "Покупатели весны",
      size: 2_500,
      ready: true,
    });
    expect(await source.segment("uncounted")).toEqual({ name: "Без счёта", size: null, ready: true });
    expect(await source.segment("autumn")).toBeUndefined();
    expect(await refusal(source.members("autumn", "", 10))).toEqual([
      "NOT_FOUND",
      "the Analytics Service has no segment autumn",
    ]);
  });

  it("reads every member in pages, and another reader resumes from a page's cursor exactly", async () => {
    const first = await audience().members("spring-buyers", "", 1_000);
    expect(first.userIds).toHaveLength(1_000);
    const read = [...first.userIds];
    // A new client, as after a restart, with only the cursor kept.
    const resumed = audience();
    let cursor = first.cursor;
    while (cursor !== "") {
      const page = await resumed.members("spring-buyers", cursor, 1_000);
      read.push(...page.userIds);
      cursor = page.cursor;
    }
    expect(read).toEqual(Array.from({ length: 2_500 }, (_, index) => seededMember("spring-buyers", index)));
  });

  it("retries through two 503s and two dropped connections, and succeeds", async () => {
    peer.setFault({ mode: "5xx", times: 2 });
    expect((await audience().members("spring-buyers", "", 10)).userIds).toHaveLength(10);
    expect(peer.messages().map((call) => call.fault)).toEqual(["5xx", "5xx", "none"]);
    peer.clear();
    peer.setFault({ mode: "drop", times: 2 });
    expect(await audience().segment("spring-buyers")).toMatchObject({ size: 2_500 });
    expect(peer.messages().map((call) => call.fault)).toEqual(["drop", "drop", "none"]);
  });

  it("gives up after its attempts with a clear error: a deadline, and an outage", async () => {
    peer.setFault({ mode: "slow", delayMs: 1_000 });
    const started = performance.now();
    expect(await refusal(audience({ timeoutMs: 100, attempts: 3 }).segment("spring-buyers"))).toEqual([
      "SERVICE_UNAVAILABLE",
      "the Analytics Service did not answer GetSegment within 100 ms (3 attempts)",
    ]);
    // Three deadlines and two backoffs, not the peer's second.
    expect(performance.now() - started).toBeLessThan(900);
    expect(peer.messages()).toHaveLength(3);
    peer.clear();
    peer.setFault({ mode: "5xx" });
    const [code, detail] = await refusal(audience().members("spring-buyers", "", 10));
    expect(code).toBe("SERVICE_UNAVAILABLE");
    expect(detail).toMatch(
      /^the Analytics Service failed ListSegmentMembers with Unavailable \(4 attempts\)/,
    );
    expect(peer.messages()).toHaveLength(4);
  });

  it("does not retry what retrying cannot mend: a refused token", async () => {
    expect(await refusal(audience({ token: "wrong" }).segment("spring-buyers"))).toEqual([
      "SERVICE_UNAVAILABLE",
      "the Analytics Service refused this service's credentials for GetSegment (ANALYTICS_TOKEN): Unauthenticated",
    ]);
    expect(peer.messages()).toHaveLength(1);
  });
});
