import { randomUUID } from "node:crypto";
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryStatsRow } from "../../../core/delivery-stats/index.ts";
import { clickhouseMigrations } from "../../../migrations/index.ts";
import { createLogger } from "../../../server/logger.ts";
import {
  ClickHouseCampaignReportQueries,
  ClickHouseCampaignUnsubscribes,
  ClickHouseDeliveryStatsWriter,
  migrateClickHouse,
} from "../../../stats/index.ts";
import { localServices } from "../../support/services.ts";

// Campaign report queries against the local ClickHouse front, over rows written by the real
// writer, as the runner's variants will carry them, into a database of this file's own.

const database = `campaign_report_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
const logger = createLogger("silent");
const log = { level: ClickHouseLogLevel.OFF };
let admin: ClickHouseClient;
let client: ClickHouseClient;
let queries: ClickHouseCampaignReportQueries;

const CAMPAIGN = randomUUID();
const OTHER = randomUUID();
const at = (time: string) => new Date(`2026-11-30T${time}Z`);

function change(
  messageId: string,
  time: string,
  status: DeliveryStatsRow["status"],
  userId: string,
  variant: string,
  campaignId = CAMPAIGN,
): DeliveryStatsRow {
  return {
    occurredAt: at(time),
    messageId,
    requestId: `req-${messageId}`,
    userId,
    channel: "email",
    status,
    templateName: "promo",
    templateVersion: 1,
    language: "ru",
    ...(status === "queued" || status === "suppressed" ? {} : { provider: "sink" }),
    campaignId,
    campaignVariant: variant,
  };
}

/** A message's way through the pipeline, one status change a minute from `start`. */
function journey(user: string, variant: string, start: number, statuses: DeliveryStatsRow["status"][]) {
  const id = randomUUID();
  return statuses.map((status, i) => {
    const minute = 600 + start + i;
    const time = `${Math.floor(minute / 60)}:${String(minute % 60).padStart(2, "0")}:00`;
    return change(id, time, status, user, variant);
  });
}

const ROWS: DeliveryStatsRow[] = [
  // Variant A: u1 opens, then clicks, then opens again on another device (a second open of
  // the same message is not recorded again, a status is once, but a retried batch may repeat it).
  ...journey("u1", "A", 0, ["queued", "sent", "delivered", "opened", "clicked", "opened"]),
  // u2's receipt came before our record of the send; no open.
  ...journey("u2", "A", 0, ["queued", "delivered", "sent"]),
  // u3: bounced after the send.
  ...journey("u3", "A", 1, ["queued", "sent", "failed"]),
  // u4: opted out, never sent.
  ...journey("u4", "A", 1, ["queued", "suppressed"]),
  // Variant B: u5 clicks without the pixel loading (images off): a click opened it.
  ...journey("u5", "B", 0, ["queued", "sent", "delivered", "clicked"]),
  // u6: delivered, opened; its machine hits (a privacy proxy's) never became statuses.
  ...journey("u6", "B", 62, ["queued", "sent", "delivered", "opened"]),
  ...journey("u7", "B", 62, ["queued", "expired"]),
  // Another campaign's message to the same user: not this report's.
  ...journey("u1", "", 0, ["queued", "sent", "delivered", "opened"]).map((row) => ({
    ...row,
    campaignId: OTHER,
  })),
];

beforeAll(async () => {
  admin = createClient({ url: localServices().clickhouseUrl, log });
  await admin.command({ query: `CREATE DATABASE ${database}` });
  client = createClient({ url: localServices().clickhouseUrl, database, log });
  await migrateClickHouse(client, clickhouseMigrations, logger);
  const writer = new ClickHouseDeliveryStatsWriter(
    client,
    { batchRows: 8, flushIntervalMs: 10, maxBufferedRows: 100, retryInitialMs: 50, retryMaxMs: 200 },
    logger,
  );
  for (const row of ROWS) await writer.record(row);
  await writer.flush();
  // u1's open reported twice, in a batch of its own.
  const [again] = ROWS.filter((row) => row.userId === "u1" && row.status === "opened");
  await writer.record(again as DeliveryStatsRow);
  await writer.close(5_000);
  // u1 unsubscribes through its link twice (a second click changes nothing), u5 once; the
  // other campaign's unsubscribe is not this one's.
  const unsubscribes = new ClickHouseCampaignUnsubscribes(client);
  const unsubscribe = (userId: string, variant: string, campaignId = CAMPAIGN) =>
    unsubscribes.record({
      at: at("12:00:00"),
      messageId: randomUUID(),
      userId,
      campaignId,
      campaignVariant: variant,
      channel: "email",
      type: "promo",
    });
  await unsubscribe("u1", "A");
  await unsubscribe("u1", "A");
  await unsubscribe("u5", "B");
  await unsubscribe("u1", "", OTHER);
  queries = new ClickHouseCampaignReportQueries(client);
});

afterAll(async () => {
  await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await Promise.allSettled([client?.close(), admin?.close()]);
});

const WHOLE_DAY = { from: at("00:00:00"), to: at("23:59:59") };

describe("ClickHouseCampaignReportQueries", () => {
  it("counts each variant's messages per stage and its readers once each", async () => {
    expect(await queries.variants({ campaignId: CAMPAIGN, ...WHOLE_DAY })).toEqual([
      {
        variant: "A",
        sent: 3,
        delivered: 2,
        failed: 1,
        suppressed: 1,
        expired: 0,
        uniqueOpens: 1,
        uniqueClicks: 1,
        unsubscribes: 1,
      },
      {
        variant: "B",
        sent: 2,
        delivered: 2,
        failed: 0,
        suppressed: 0,
        expired: 1,
        uniqueOpens: 2,
        uniqueClicks: 1,
        unsubscribes: 1,
      },
    ]);
  });

  it("answers nothing for a campaign without messages, and keeps to the range", async () => {
    expect(await queries.variants({ campaignId: randomUUID(), ...WHOLE_DAY })).toEqual([]);
    const [a] = await queries.variants({ campaignId: CAMPAIGN, from: at("10:00:00"), to: at("10:01:30") });
    expect(a).toMatchObject({ variant: "A", sent: 2, delivered: 1 });
  });

  it("a campaign without variants is one row of variant ''", async () => {
    const rows = await queries.variants({ campaignId: OTHER, ...WHOLE_DAY });
    expect(rows).toEqual([expect.objectContaining({ variant: "", sent: 1, uniqueOpens: 1 })]);
  });

  it("series: each message in the bucket it first reached each stage, per variant, in order", async () => {
    const points = await queries.series({ campaignId: CAMPAIGN, ...WHOLE_DAY, bucket: "hour" }, 100);
    expect(points).toEqual([
      { bucketStart: at("10:00:00"), variant: "A", sent: 3, delivered: 2, failed: 1, opened: 1, clicked: 1 },
      { bucketStart: at("10:00:00"), variant: "B", sent: 1, delivered: 1, failed: 0, opened: 1, clicked: 1 },
      { bucketStart: at("11:00:00"), variant: "B", sent: 1, delivered: 1, failed: 0, opened: 1, clicked: 0 },
    ]);
    expect(await queries.series({ campaignId: CAMPAIGN, ...WHOLE_DAY, bucket: "minute" }, 2)).toHaveLength(2);
  });

  it("reads the campaign through the by_campaign projection", async () => {
    // ClickHouse refuses the query rather than read without a projection (the series reads
    // notification_delivery_stats alone; the figures also read the unsubscribes' own table,
    // sorted by campaign already, and go through the same projection with the same WHERE).
    const forced = createClient({
      url: localServices().clickhouseUrl,
      database,
      log,
      clickhouse_settings: { force_optimize_projection: 1 },
    });
    try {
      const reading = new ClickHouseCampaignReportQueries(forced);
      await expect(
        reading.series({ campaignId: CAMPAIGN, ...WHOLE_DAY, bucket: "hour" }, 100),
      ).resolves.toHaveLength(3);
    } finally {
      await forced.close();
    }
  });
});
