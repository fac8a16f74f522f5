import { describe, expect, it } from "vitest";
import {
  bucketsIn,
  type DeliveryStatsCount,
  type DeliveryStatsQuery,
  DeliveryStatsReport,
  MAX_GROUPS,
} from "../../../../core/delivery-stats/index.ts";
import { DomainError, ErrorCatalog } from "../../../../core/errors.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const from = new Date("2026-11-30T00:00:00Z");
const later = (ms: number) => new Date(from.getTime() + ms);

function query(more: Partial<DeliveryStatsQuery> = {}): DeliveryStatsQuery {
  return {
    from,
    to: later(DAY),
    groupBy: [],
    channels: [],
    statuses: [],
    templateNames: [],
    campaignIds: [],
    ...more,
  };
}

/** Answers `counts` and remembers the limit it was asked with. */
function reportOver(counts: DeliveryStatsCount[]) {
  const asked: number[] = [];
  const report = new DeliveryStatsReport({
    count: async (_query, limit) => {
      asked.push(limit);
      return counts.slice(0, limit);
    },
  });
  return { report, asked };
}

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).entry).toBe(ErrorCatalog.validation);
  return error as DomainError;
}

describe("bucketsIn", () => {
  it("counts the buckets a half-open range touches, partial ones included", () => {
    expect(bucketsIn(from, later(DAY), "minute")).toBe(1440);
    expect(bucketsIn(from, later(DAY + 1), "minute")).toBe(1441);
    expect(bucketsIn(later(30 * 60_000), later(90 * 60_000), "hour")).toBe(2);
    expect(bucketsIn(from, later(DAY), "day")).toBe(1);
    // Monday 30 November to Monday 7 December: one week; from Sunday the 29th: two.
    expect(bucketsIn(from, later(7 * DAY), "week")).toBe(1);
    expect(bucketsIn(later(-DAY), later(7 * DAY), "week")).toBe(2);
    expect(bucketsIn(new Date("2026-01-31T00:00:00Z"), new Date("2026-03-01T00:00:00Z"), "month")).toBe(2);
  });
});

describe("DeliveryStatsReport", () => {
  it("passes a bounded query on, asking one count more than it answers", async () => {
    const { report, asked } = reportOver([{ messages: 3 }]);
    expect(await report.count(query({ bucket: "minute" }))).toEqual([{ messages: 3 }]);
    expect(asked).toEqual([MAX_GROUPS + 1]);
  });

  it("refuses a range that is empty, reversed, too long or cut into too many buckets", async () => {
    const { report } = reportOver([]);
    expect((await refusal(report.count(query({ to: from })))).detail).toBe(
      "end_time: must be after start_time",
    );
    expect((await refusal(report.count(query({ to: later(-1) })))).source).toEqual({ pointer: "/end_time" });
    expect((await refusal(report.count(query({ to: later(401 * DAY) })))).detail).toBe(
      "end_time: the range may span at most 400 days",
    );
    expect((await refusal(report.count(query({ bucket: "minute", to: later(DAY + 1) })))).detail).toBe(
      "end_time: the range spans 1441 minute buckets, at most 1440 are allowed; shorten the range or take a longer bucket",
    );
    await refusal(report.count(query({ bucket: "hour", to: later(61 * DAY) })));
    expect(await report.count(query({ bucket: "hour", to: later(60 * DAY) }))).toEqual([]);
    expect(await report.count(query({ bucket: "day", to: later(400 * DAY) }))).toEqual([]);
  });

  it("refuses times outside what ClickHouse stores", async () => {
    const { report } = reportOver([]);
    const early = await refusal(report.count(query({ from: new Date("1969-12-31T00:00:00Z") })));
    expect(early.detail).toBe("start_time: must be from 1970 to 2299");
    const late = new Date("2300-01-01T00:00:00Z");
    await refusal(report.count(query({ from: new Date("2299-12-31T00:00:00Z"), to: late })));
  });

  it("refuses an answer of more than MAX_GROUPS counts", async () => {
    const many = Array.from({ length: MAX_GROUPS + 1 }, () => ({ messages: 1 }));
    const error = await refusal(reportOver(many).report.count(query()));
    expect(error.detail).toMatch(/more than 10000 groups/);
    expect(await reportOver(many.slice(1)).report.count(query())).toHaveLength(MAX_GROUPS);
  });
});
