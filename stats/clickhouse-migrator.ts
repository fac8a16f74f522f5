import { createHash } from "node:crypto";
import type { ClickHouseClient } from "@clickhouse/client";
import type { Logger } from "../core/logger.ts";
import type { ClickHouseMigration } from "../migrations/index.ts";

const LEDGER = "schema_migrations";

function checksumOf(migration: ClickHouseMigration): string {
  return createHash("sha256").update(migration.statements.join("\n;\n")).digest("hex");
}

/**
 * Applies the migrations not yet in the ledger, in order, and records each one. A
 * migration whose text changed after it was applied stops the run: it would never
 * be applied again, so the difference must become a new migration.
 */
export async function migrateClickHouse(
  client: ClickHouseClient,
  migrations: ClickHouseMigration[],
  logger: Logger,
): Promise<string[]> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${LEDGER} (
      name String, checksum String, applied_at DateTime64(3, 'UTC')
    ) ENGINE = MergeTree ORDER BY name`,
  });
  const result = await client.query({ query: `SELECT name, checksum FROM ${LEDGER}`, format: "JSONEachRow" });
  const applied = new Map(
    (await result.json<{ name: string; checksum: string }>()).map((row) => [row.name, row.checksum]),
  );
  const done: string[] = [];
  for (const migration of migrations) {
    const checksum = checksumOf(migration);
    const recorded = applied.get(migration.name);
    if (recorded !== undefined) {
      if (recorded !== checksum) {
        throw new Error(
          `ClickHouse migration ${migration.name} changed after it was applied; add a new migration instead`,
        );
      }
      continue;
    }
    logger.info({ migration: migration.name }, "applying ClickHouse migration");
    for (const statement of migration.statements) await client.command({ query: statement });
    await client.insert({
      table: LEDGER,
      values: [
        {
          name: migration.name,
          checksum,
          applied_at: new Date().toISOString().replace("T", " ").replace("Z", ""),
        },
      ],
      format: "JSONEachRow",
    });
    done.push(migration.name);
  }
  return done;
}
