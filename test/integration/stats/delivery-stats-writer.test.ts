import { randomUUID } from "node:crypto";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryStatsRow } from "../../../core/delivery-stats/index.ts";
import { clickhouseMigrations } from "../../../migrations/index.ts";
import { createLogger } from "../../../server/logger.ts";
import {
  ClickHouseDeliveryStatsWriter,
  type DeliveryStatsWriterOptions,
  migrateClickHouse,
} from "../../../stats/index.ts";
import { type ClickHouseFront, startClickHouseFront } from "../../support/clickhouse-front.ts";

// The stats writer against the ClickHouse front (chdb behind our HTTP interface):
// batches cut by size and by age, a batch whose answer was lost retried without
// counting twice, ClickHouse stopped and started again under load with the memory
// bound holding, and the shutdown flush with and without ClickHouse. The front is a
// private one this file starts and stops: the shared one (scripts/services) is
// started again by any other test run that finds it down, which happened here, and
// then the rows of the outage test are written while it is meant to be down.

let front: ClickHouseFront;
let url = "";
const database = `stats_writer_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
const logger = createLogger("silent");
const log = { level: ClickHouseLogLevel.OFF };
let admin: ClickHouseClient;
let reader: ClickHouseClient;
const opened: ClickHouseClient[] = [];

function client(at = url): ClickHouseClient {
  const created = createClient({ url: at, database, log, request_timeout: 5_000 });
  opened.push(created);
  return created;
}

const defaults: DeliveryStatsWriterOptions = {
  batchRows: 100,
  flushIntervalMs: 60_000,
  maxBufferedRows: 1_000,
  retryInitialMs: 50,
  retryMaxMs: 400,
};

let sequence = 0;
function row(status: DeliveryStatsRow["status"] = "sent"): DeliveryStatsRow {
  sequence++;
  return {
    occurredAt: new Date(Date.UTC(2026, 10, 30, 12, 0, 0, sequence % 1000)),
    messageId: randomUUID(),
    requestId: `req-${sequence}`,
    userId: `user-${sequence % 17}`,
    channel: "email",
    status,
    templateName: "welcome",
    templateVersion: 3,
    language: "ru",
    provider: "smtp",
    priority: "normal",
    errorCode: status === "failed" ? "MAILBOX_FULL" : undefined,
    reason: status === "failed" ? "the recipient's mailbox is full" : undefined,
    latencyMs: 42,
  };
}

async function stored(table = "notification_delivery_stats"): Promise<{ rows: number; messages: number }> {
  const result = await reader.query({
    query: `SELECT count() AS rows, uniqExact(message_id) AS messages FROM ${table}`,
    format: "JSONEachRow",
  });
  const [counts] = await result.json<{ rows: string; messages: string }>();
  return { rows: Number(counts?.rows), messages: Number(counts?.messages) };
}

async function truncate(): Promise<void> {
  await reader.command({ query: "TRUNCATE TABLE notification_delivery_stats" });
}

async function activeParts(): Promise<number> {
  const result = await reader.query({
    query: `SELECT count() AS parts FROM system.parts WHERE database = currentDatabase()
      AND table = 'notification_delivery_stats' AND active`,
    format: "JSONEachRow",
  });
  const [counts] = await result.json<{ parts: string }>();
  return Number(counts?.parts);
}

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  front = await startClickHouseFront();
  url = front.url;
  admin = createClient({ url, log });
  await admin.command({ query: `CREATE DATABASE ${database}` });
  reader = client();
  await migrateClickHouse(reader, clickhouseMigrations, logger);
});

afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.close()));
  await admin?.close();
  await front?.dispose();
});

describe("ClickHouseDeliveryStatsWriter", () => {
  it("writes a batch as soon as it reaches its size, with every column", async () => {
    await truncate();
    const writer = new ClickHouseDeliveryStatsWriter(client(), defaults, logger);
    const first = row("failed");
    await writer.record(first);
    for (let i = 1; i < 250; i++) await writer.record(row());
    await eventually(async () => (await stored()).rows === 200);
    expect(writer.state()).toMatchObject({ bufferedRows: 50, flushedRows: 200, failedFlushes: 0 });
    const result = await reader.query({
      query: "SELECT * EXCEPT (event_time) FROM notification_delivery_stats WHERE message_id = {id:UUID}",
      query_params: { id: first.messageId },
      format: "JSONEachRow",
    });
    expect(await result.json()).toEqual([
      {
        message_id: first.messageId,
        request_id: first.requestId,
        user_id: first.userId,
        template_name: "welcome",
        template_version: 3,
        language: "ru",
        campaign_id: "",
        campaign_variant: "",
        channel: "email",
        provider: "smtp",
        priority: "normal",
        status: "failed",
        error_code: "MAILBOX_FULL",
        reason: "the recipient's mailbox is full",
        latency_ms: 42,
      },
    ]);
    await writer.close(5_000);
    expect(await stored()).toEqual({ rows: 250, messages: 250 });
  });

  it("writes a smaller batch once its oldest row is flushIntervalMs old", async () => {
    await truncate();
    const writer = new ClickHouseDeliveryStatsWriter(client(), { ...defaults, flushIntervalMs: 300 }, logger);
    const started = performance.now();
    for (let i = 0; i < 5; i++) await writer.record(row());
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await stored()).rows).toBe(0);
    await eventually(async () => (await stored()).rows === 5);
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(writer.state()).toMatchObject({ bufferedRows: 0, flushedRows: 5 });
    await writer.close(1_000);
  });

  it("tells callers when their rows are written, in one batch for the rows that came together", async () => {
    await truncate();
    const writer = new ClickHouseDeliveryStatsWriter(
      client(),
      { ...defaults, flushIntervalMs: 60_000, quietMs: 200 },
      logger,
    );
    const resolvedAt: number[] = [];
    const started = performance.now();
    for (let i = 0; i < 3; i++) await writer.record(row());
    const first = writer.written().then(() => resolvedAt.push(performance.now()));
    for (let i = 0; i < 4; i++) await writer.record(row());
    const second = writer.written().then(() => resolvedAt.push(performance.now()));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(resolvedAt).toEqual([]);
    expect((await stored()).rows).toBe(0);
    // No row came for quietMs while callers wait: cut then, not when the oldest row is a minute old.
    await Promise.all([first, second]);
    expect(Math.max(...resolvedAt) - started).toBeLessThan(5_000);
    // Both callers' rows went in one insert, and each learnt of it only once it landed.
    expect(await stored()).toEqual({ rows: 7, messages: 7 });
    expect(writer.state()).toMatchObject({ bufferedRows: 0, flushedRows: 7 });
    expect(await activeParts()).toBe(1);
    await expect(writer.written()).resolves.toBeUndefined();
    await writer.close(1_000);
  });

  it("keeps filling the batch callers wait on while rows still come, then writes it once", async () => {
    await truncate();
    const writer = new ClickHouseDeliveryStatsWriter(
      client(),
      { ...defaults, flushIntervalMs: 60_000, quietMs: 150 },
      logger,
    );
    await writer.record(row());
    let written = false;
    const waiting = writer.written().then(() => {
      written = true;
    });
    // A row every 50 ms for 600 ms, each well within quietMs of the one before.
    for (let i = 0; i < 12; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await writer.record(row());
    }
    expect(written).toBe(false);
    expect((await stored()).rows).toBe(0);
    await waiting;
    await writer.written();
    expect(await stored()).toEqual({ rows: 13, messages: 13 });
    expect(await activeParts()).toBe(1);
    await writer.close(1_000);
  });

  it("retries a batch whose answer was lost, and ClickHouse keeps it once", async () => {
    await truncate();
    // Forwards to the front, but the first INSERT's answer never reaches the writer:
    // the rows are in, the writer cannot know it, and sends the batch again.
    let dropped = 0;
    const proxy: Server = createServer((req, res) => {
      const upstream = httpRequest(
        `${url}${req.url}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          const loseIt = dropped === 0 && decodeURIComponent(req.url ?? "").includes("INSERT");
          if (loseIt) {
            dropped++;
            answer.resume();
            answer.once("end", () => req.socket.destroy());
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const port = (proxy.address() as AddressInfo).port;
      const writer = new ClickHouseDeliveryStatsWriter(client(`http://127.0.0.1:${port}`), defaults, logger);
      for (let i = 0; i < 100; i++) await writer.record(row());
      await writer.flush();
      expect(dropped).toBe(1);
      expect(writer.state()).toMatchObject({ flushedRows: 100, failedFlushes: 1 });
      expect(await stored()).toEqual({ rows: 100, messages: 100 });
      await writer.close(1_000);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it("holds rows while ClickHouse is down, makes callers wait at the bound, and loses or doubles none", async () => {
    await truncate();
    const options = { ...defaults, batchRows: 200, maxBufferedRows: 1_000 };
    const writer = new ClickHouseDeliveryStatsWriter(client(), options, logger);
    await front.stop();
    let peak = 0;
    const watch = setInterval(() => {
      peak = Math.max(peak, writer.state().bufferedRows);
    }, 5);
    try {
      for (let i = 0; i < 600; i++) await writer.record(row());
      await eventually(() => writer.state().failedFlushes >= 2);
      // Up to the bound, record returns at once; past it, the caller waits.
      const admitted: Promise<void>[] = [];
      let settled = 0;
      for (let i = 0; i < 600; i++) admitted.push(writer.record(row()).then(() => void settled++));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(400);
      expect(writer.state()).toMatchObject({ bufferedRows: 1_000, waitingCallers: 200, flushedRows: 0 });

      await front.start();
      await Promise.all(admitted);
      await writer.flush();
      expect(writer.state()).toMatchObject({ bufferedRows: 0, waitingCallers: 0, flushedRows: 1_200 });
      expect(await stored()).toEqual({ rows: 1_200, messages: 1_200 });
      expect(peak).toBeLessThanOrEqual(1_000);
      await writer.close(1_000);
    } finally {
      clearInterval(watch);
      await front.start().catch(() => undefined);
    }
  });

  it("flushes what it holds on close, and refuses rows afterwards", async () => {
    await truncate();
    const writer = new ClickHouseDeliveryStatsWriter(client(), defaults, logger);
    for (let i = 0; i < 37; i++) await writer.record(row());
    expect(await writer.close(5_000)).toEqual({ droppedRows: 0 });
    expect(await stored()).toEqual({ rows: 37, messages: 37 });
    await expect(writer.record(row())).rejects.toThrow("closed");
  });

  it("refuses at once a row ClickHouse could never take, so it cannot block the rows behind it", async () => {
    await truncate();
    const writer = new ClickHouseDeliveryStatsWriter(client(), defaults, logger);
    await expect(writer.record({ ...row(), messageId: "not-a-uuid" })).rejects.toThrow(
      "messageId is not a UUID",
    );
    await expect(writer.record({ ...row(), occurredAt: new Date(Number.NaN) })).rejects.toThrow("not a date");
    await expect(writer.record({ ...row(), templateVersion: -1 })).rejects.toThrow("not a UInt32");
    await writer.record(row());
    expect(await writer.close(5_000)).toEqual({ droppedRows: 0 });
    expect(writer.state()).toMatchObject({ flushedRows: 1, failedFlushes: 0 });
    expect(await stored()).toEqual({ rows: 1, messages: 1 });
  });

  it("gives up at the shutdown deadline when ClickHouse stays down, and counts what it lost", async () => {
    const dropped: number[] = [];
    const metrics = {
      flushedRows: { inc: () => undefined },
      failedFlushes: { inc: () => undefined },
      droppedRows: { inc: (n = 1) => void dropped.push(n) },
    };
    // A ClickHouse that stays down for the whole shutdown: nothing listens on port 1.
    const writer = new ClickHouseDeliveryStatsWriter(client("http://127.0.0.1:1"), defaults, logger, metrics);
    for (let i = 0; i < 10; i++) await writer.record(row());
    const started = performance.now();
    expect(await writer.close(300)).toEqual({ droppedRows: 10 });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(dropped).toEqual([10]);
    expect(writer.state()).toMatchObject({ bufferedRows: 0, droppedRows: 10 });
  });
});
