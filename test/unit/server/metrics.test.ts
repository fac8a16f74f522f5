import { describe, expect, it } from "vitest";
import { createMetrics } from "../../../server/metrics.ts";

describe("the stats writer's metrics", () => {
  it("reads the buffered rows at the scrape and counts flushes", async () => {
    const metrics = createMetrics();
    let held = 1_234;
    metrics.statsWriter.observeBufferedRows(() => held);
    metrics.statsWriter.flushedRows.inc(5_000);
    metrics.statsWriter.failedFlushes.inc();
    const scrape = async (): Promise<string[]> =>
      (await metrics.registry.metrics()).split("\n").filter((line) => line.startsWith("notification_stats_"));
    expect(await scrape()).toEqual([
      'notification_stats_buffered_rows{service="notification-service"} 1234',
      'notification_stats_flushed_rows_total{service="notification-service"} 5000',
      'notification_stats_failed_flushes_total{service="notification-service"} 1',
      'notification_stats_dropped_rows_total{service="notification-service"} 0',
    ]);
    held = 0;
    expect((await scrape())[0]).toBe('notification_stats_buffered_rows{service="notification-service"} 0');
  });
});
