import { randomUUID } from "node:crypto";
import { type ClickHouseClient, createClient } from "@clickhouse/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClickHouseMigration, clickhouseMigrations } from "../../migrations/index.ts";
import { createLogger } from "../../server/logger.ts";
import { migrateClickHouse } from "../../stats/index.ts";
import { localServices } from "../support/services.ts";

// A database of its own per run, so the ledger starts empty and nothing is left behind.
describe("ClickHouse migrations", () => {
  const database = `migrations_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const logger = createLogger("silent");
  let admin: ClickHouseClient;
  let client: ClickHouseClient;

  beforeAll(async () => {
    admin = createClient({ url: localServices().clickhouseUrl });
    await admin.command({ query: `CREATE DATABASE ${database}` });
    client = createClient({ url: localServices().clickhouseUrl, database });
  });

  afterAll(async () => {
    await client?.close();
    await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin?.close();
  });

  async function ledger(): Promise<string[]> {
    const result = await client.query({
      query: "SELECT name FROM schema_migrations ORDER BY name",
      format: "JSONEachRow",
    });
    return (await result.json<{ name: string }>()).map((row) => row.name);
  }

  it("applies every migration once, in order, and records it", async () => {
    const applied = await migrateClickHouse(client, clickhouseMigrations, logger);
    expect(applied).toEqual(clickhouseMigrations.map((migration) => migration.name));
    expect(await ledger()).toEqual(applied);
    expect(await migrateClickHouse(client, clickhouseMigrations, logger)).toEqual([]);
  });

  it("creates the delivery statistics table partitioned by month", async () => {
    const result = await client.query({
      query:
        "SELECT engine, partition_key FROM system.tables WHERE database = {db:String} AND name = 'notification_delivery_stats'",
      query_params: { db: database },
      format: "JSONEachRow",
    });
    expect(await result.json()).toEqual([{ engine: "MergeTree", partition_key: "toYYYYMM(event_time)" }]);
  });

  it("applies a new migration appended later and only that one", async () => {
    const extra: ClickHouseMigration = {
      name: "9999_extra",
      statements: ["CREATE TABLE extra (id UInt64) ENGINE = MergeTree ORDER BY id"],
    };
    expect(await migrateClickHouse(client, [...clickhouseMigrations, extra], logger)).toEqual(["9999_extra"]);
  });

  it("refuses to run when an applied migration was edited afterwards", async () => {
    const [first, ...rest] = clickhouseMigrations;
    if (!first) throw new Error("no ClickHouse migrations");
    const edited = { ...first, statements: [...first.statements, "SELECT 1"] };
    await expect(migrateClickHouse(client, [edited, ...rest], logger)).rejects.toThrow(
      `ClickHouse migration ${first.name} changed after it was applied`,
    );
  });
});
