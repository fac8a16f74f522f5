import type { Logger } from "../core/logger.ts";
import { clickhouseMigrations } from "../migrations/index.ts";
import { migrateClickHouse } from "../stats/index.ts";
import type { Infrastructure } from "./infrastructure.ts";

/** Brings PostgreSQL and ClickHouse to the newest schema; safe to run again. */
export async function runMigrations(
  infra: Pick<Infrastructure, "orm" | "clickhouse">,
  logger: Logger,
): Promise<void> {
  const postgres = await infra.orm.migrator.up();
  logger.info({ applied: postgres.map((migration) => migration.name) }, "PostgreSQL migrations done");
  const clickhouse = await migrateClickHouse(infra.clickhouse, clickhouseMigrations, logger);
  logger.info({ applied: clickhouse }, "ClickHouse migrations done");
}
