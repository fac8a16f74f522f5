import { DomainError, ErrorCatalog } from "../errors.ts";
import type {
  DeliveryStatsCount,
  DeliveryStatsQueries,
  DeliveryStatsQuery,
  TimeBucket,
} from "./delivery-stats-queries.ts";

const DAY_MS = 86_400_000;
/** Statistics are kept 400 days (the table's TTL): a longer range could only find nothing more. */
export const MAX_RANGE_DAYS = 400;
/** A day of minutes, 60 days of hours: as many points as a chart shows. */
export const MAX_BUCKETS = 1440;
/** Counts in one answer; past it the caller narrows the range or the filters, or groups by less. */
export const MAX_GROUPS = 10_000;
// DateTime64's range starts in 1900 but no statistic predates the Unix epoch; 2299 is its end.
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(2300, 0, 1);

/** The number of the bucket `ms` falls in, counted from the epoch, for counting buckets between two instants. */
function bucketNumber(ms: number, bucket: TimeBucket): number {
  switch (bucket) {
    case "minute":
      return Math.floor(ms / 60_000);
    case "hour":
      return Math.floor(ms / 3_600_000);
    case "day":
      return Math.floor(ms / DAY_MS);
    case "week":
      // Weeks start on Monday; 1970-01-01 was a Thursday, three days after one.
      return Math.floor((Math.floor(ms / DAY_MS) + 3) / 7);
    case "month": {
      const date = new Date(ms);
      return date.getUTCFullYear() * 12 + date.getUTCMonth();
    }
  }
}

/** How many buckets the half-open range [from, to) touches. */
export function bucketsIn(from: Date, to: Date, bucket: TimeBucket): number {
  return bucketNumber(to.getTime() - 1, bucket) - bucketNumber(from.getTime(), bucket) + 1;
}

function refuse(detail: string, field: string): DomainError {
  return new DomainError(ErrorCatalog.validation, detail, { pointer: `/${field}` });
}

/**
 * Delivery statistics within bounds: a range that is ordered, within what is kept, and
 * cut into a number of buckets a chart can show, and answers of a bounded size. The
 * counting itself is the store's.
 */
export class DeliveryStatsReport {
  constructor(private readonly queries: DeliveryStatsQueries) {}

  async count(query: DeliveryStatsQuery): Promise<DeliveryStatsCount[]> {
    const from = query.from.getTime();
    const to = query.to.getTime();
    for (const [field, ms] of [
      ["start_time", from],
      ["end_time", to],
    ] as const) {
      if (!(ms >= EARLIEST && ms < LATEST)) throw refuse(`${field}: must be from 1970 to 2299`, field);
    }
    if (to <= from) throw refuse("end_time: must be after start_time", "end_time");
    if (to - from > MAX_RANGE_DAYS * DAY_MS) {
      throw refuse(`end_time: the range may span at most ${MAX_RANGE_DAYS} days`, "end_time");
    }
    if (query.bucket) {
      const buckets = bucketsIn(query.from, query.to, query.bucket);
      if (buckets > MAX_BUCKETS) {
        throw refuse(
          `end_time: the range spans ${buckets} ${query.bucket} buckets, at most ${MAX_BUCKETS} are allowed; shorten the range or take a longer bucket`,
          "end_time",
        );
      }
    }
    const counts = await this.queries.count(query, MAX_GROUPS + 1);
    if (counts.length > MAX_GROUPS) {
      throw new DomainError(
        ErrorCatalog.validation,
        `the answer would hold more than ${MAX_GROUPS} groups; shorten the range, filter, group by fewer dimensions or take a longer bucket`,
      );
    }
    return counts;
  }
}
