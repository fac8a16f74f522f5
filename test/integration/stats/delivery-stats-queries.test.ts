import { randomUUID } from "node:crypto";
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryStatsQuery, DeliveryStatsRow } from "../../../core/delivery-stats/index.ts";
import { DomainError, ErrorCatalog } from "../../../core/errors.ts";
import { clickhouseMigrations } from "../../../migrations/index.ts";
import { createLogger } from "../../../server/logger.ts";
import {
  ClickHouseDeliveryStatsQueries,
  ClickHouseDeliveryStatsWriter,
  migrateClickHouse,
} from "../../../stats/index.ts";
import { localServices } from "../../support/services.ts";

// The delivery statistics queries against the local ClickHouse front, over rows written
// by the real writer into a database of this file's own on the shared front.

const database = `stats_queries_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
const logger = createLogger("silent");
const log = { level: ClickHouseLogLevel.OFF };
let admin: ClickHouseClient;
let client: ClickHouseClient;
let queries: ClickHouseDeliveryStatsQueries;

const at = (time: string) => new Date(`2026-11-${time}Z`);
const [A, B, C, D, E] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
const HOSTILE = "x' OR 1=1 --";

function change(
  messageId: string,
  occurredAt: string,
  status: DeliveryStatsRow["status"],
  more: Partial<DeliveryStatsRow> = {},
): DeliveryStatsRow {
  return {
    occurredAt: at(occurredAt),
    messageId,
    requestId: `req-${messageId}`,
    userId: "user-1",
    channel: "email",
    status,
    templateName: "welcome",
    templateVersion: 1,
    language: "ru",
    ...(status === "queued" ? {} : { provider: "smtp" }),
    ...more,
  };
}

// Monday 30 November 2026: A and B by email from 10:00, C by SMS in a campaign at 11:30, D by
// push on Sunday the 29th, E with a name that would break SQL built from strings.
const ROWS: DeliveryStatsRow[] = [
  change(A, "30T10:00:05", "queued"),
  change(A, "30T10:00:10", "sent"),
  change(A, "30T10:01:00", "delivered"),
  change(B, "30T10:00:20", "queued", { templateVersion: 2 }),
  change(B, "30T10:00:30", "failed", { templateVersion: 2, errorCode: "MAILBOX_FULL" }),
  change(C, "30T11:30:00", "queued", { channel: "sms", templateName: "promo", campaignId: "cmp-1" }),
  change(C, "30T11:31:00", "sent", {
    channel: "sms",
    templateName: "promo",
    campaignId: "cmp-1",
    provider: "smsc",
  }),
  change(D, "29T23:59:59.999", "queued", { channel: "push_fcm" }),
  change(E, "30T12:00:00", "queued", { templateName: HOSTILE }),
];

function query(more: Partial<DeliveryStatsQuery> = {}): DeliveryStatsQuery {
  return {
    from: at("29T00:00:00"),
    to: at("31T00:00:00"),
    groupBy: [],
    channels: [],
    statuses: [],
    templateNames: [],
    campaignIds: [],
    ...more,
  };
}

beforeAll(async () => {
  admin = createClient({ url: localServices().clickhouseUrl, log });
  await admin.command({ query: `CREATE DATABASE ${database}` });
  client = createClient({ url: localServices().clickhouseUrl, database, log });
  await migrateClickHouse(client, clickhouseMigrations, logger);
  const options = {
    batchRows: 4,
    flushIntervalMs: 10,
    maxBufferedRows: 100,
    retryInitialMs: 50,
    retryMaxMs: 200,
  };
  const writer = new ClickHouseDeliveryStatsWriter(client, options, logger);
  for (const row of ROWS) await writer.record(row);
  // The provider's delivery receipt arriving twice: a second row in a batch of its own.
  await writer.flush();
  await writer.record(change(A, "30T10:01:00", "delivered"));
  await writer.close(5_000);
  queries = new ClickHouseDeliveryStatsQueries(client);
});

afterAll(async () => {
  await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await Promise.allSettled([client?.close(), admin?.close()]);
});

describe("ClickHouseDeliveryStatsQueries", () => {
  it("counts the messages that reached each status, a status recorded twice once", async () => {
    const stored = await client.query({
      query: "SELECT count() AS rows FROM notification_delivery_stats WHERE message_id = {id:UUID}",
      query_params: { id: A },
      format: "JSONEachRow",
    });
    const [{ rows } = { rows: 0 }] = await stored.json<{ rows: number | string }>();
    expect(Number(rows)).toBe(4);
    expect(await queries.count(query({ groupBy: ["status"] }), 100)).toEqual([
      { status: "delivered", messages: 1 },
      { status: "failed", messages: 1 },
      { status: "queued", messages: 5 },
      { status: "sent", messages: 2 },
    ]);
  });

  it("counts distinct messages without grouping, and nothing for an empty range", async () => {
    expect(await queries.count(query(), 100)).toEqual([{ messages: 5 }]);
    expect(await queries.count(query({ from: at("01T00:00:00"), to: at("02T00:00:00") }), 100)).toEqual([]);
    expect(
      await queries.count(
        query({ groupBy: ["status"], from: at("01T00:00:00"), to: at("02T00:00:00") }),
        100,
      ),
    ).toEqual([]);
  });

  it("groups by every dimension in the order asked", async () => {
    const groupBy = [
      "channel",
      "templateName",
      "templateVersion",
      "provider",
      "campaignId",
      "status",
    ] as const;
    const counts = await queries.count(query({ groupBy, statuses: ["sent"] }), 100);
    expect(counts).toEqual([
      {
        channel: "email",
        templateName: "welcome",
        templateVersion: 1,
        provider: "smtp",
        campaignId: "",
        status: "sent",
        messages: 1,
      },
      {
        channel: "sms",
        templateName: "promo",
        templateVersion: 1,
        provider: "smsc",
        campaignId: "cmp-1",
        status: "sent",
        messages: 1,
      },
    ]);
  });

  it("buckets by minute, hour, day, week and month in UTC, the end of the range excluded", async () => {
    const minutes = await queries.count(
      query({ bucket: "minute", from: at("30T10:00:00"), to: at("30T10:01:00") }),
      100,
    );
    expect(minutes).toEqual([{ bucketStart: at("30T10:00:00"), messages: 2 }]);
    expect(await queries.count(query({ bucket: "hour", groupBy: ["channel"] }), 100)).toEqual([
      { bucketStart: at("29T23:00:00"), channel: "push_fcm", messages: 1 },
      { bucketStart: at("30T10:00:00"), channel: "email", messages: 2 },
      { bucketStart: at("30T11:00:00"), channel: "sms", messages: 1 },
      { bucketStart: at("30T12:00:00"), channel: "email", messages: 1 },
    ]);
    expect(await queries.count(query({ bucket: "day" }), 100)).toEqual([
      { bucketStart: at("29T00:00:00"), messages: 1 },
      { bucketStart: at("30T00:00:00"), messages: 4 },
    ]);
    expect(await queries.count(query({ bucket: "week" }), 100)).toEqual([
      { bucketStart: at("23T00:00:00"), messages: 1 },
      { bucketStart: at("30T00:00:00"), messages: 4 },
    ]);
    expect(await queries.count(query({ bucket: "month" }), 100)).toEqual([
      { bucketStart: at("01T00:00:00"), messages: 5 },
    ]);
  });

  it("filters by channel, status, template and campaign, each one of several values", async () => {
    const count = async (more: Partial<DeliveryStatsQuery>) =>
      (await queries.count(query(more), 100))[0]?.messages ?? 0;
    expect(await count({ channels: ["sms", "push_fcm"] })).toBe(2);
    expect(await count({ statuses: ["failed", "delivered"] })).toBe(2);
    expect(await count({ templateNames: ["promo"] })).toBe(1);
    expect(await count({ campaignIds: ["cmp-1"] })).toBe(1);
    expect(await count({ campaignIds: ["cmp-1"], channels: ["email"] })).toBe(0);
    expect(await count({ templateNames: ["welcome"], statuses: ["queued"], channels: ["email"] })).toBe(2);
  });

  it("takes filter values as bound parameters, never as SQL", async () => {
    expect(await queries.count(query({ templateNames: [HOSTILE] }), 100)).toEqual([{ messages: 1 }]);
    expect(await queries.count(query({ templateNames: ["x"], campaignIds: ["') OR ('1'='1"] }), 100)).toEqual(
      [],
    );
  });

  it("answers at most the limit", async () => {
    expect(await queries.count(query({ groupBy: ["status"] }), 2)).toHaveLength(2);
  });

  it("answers SERVICE_UNAVAILABLE when ClickHouse cannot be reached", async () => {
    const down = createClient({ url: "http://127.0.0.1:9", log, request_timeout: 1_000 });
    try {
      const error = await new ClickHouseDeliveryStatsQueries(down)
        .count(query(), 10)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).entry).toBe(ErrorCatalog.unavailable);
    } finally {
      await down.close();
    }
  });
});
