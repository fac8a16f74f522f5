export { migrateClickHouse } from "./clickhouse-migrator.ts";
