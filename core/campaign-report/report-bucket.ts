import { bucketsIn, MAX_BUCKETS, type TimeBucket } from "../delivery-stats/index.ts";
import { DomainError, ErrorCatalog } from "../errors.ts";

/** As many points as a chart of a report page shows legibly. */
export const CHOSEN_MAX_BUCKETS = 240;
const CHOICES: readonly TimeBucket[] = ["minute", "hour", "day", "week", "month"];

/**
 * The bucket of a report's series: the one asked for, refused past MAX_BUCKETS like any
 * statistics range, or the shortest that cuts the span into at most CHOSEN_MAX_BUCKETS.
 */
export function reportBucket(from: Date, to: Date, asked?: TimeBucket): TimeBucket {
  if (asked) {
    const buckets = bucketsIn(from, to, asked);
    if (buckets > MAX_BUCKETS) {
      throw new DomainError(
        ErrorCatalog.validation,
        `bucket: the campaign spans ${buckets} ${asked} buckets, at most ${MAX_BUCKETS} are allowed; take a longer bucket or leave it unset`,
        { pointer: "/bucket" },
      );
    }
    return asked;
  }
  return CHOICES.find((bucket) => bucketsIn(from, to, bucket) <= CHOSEN_MAX_BUCKETS) ?? "month";
}
