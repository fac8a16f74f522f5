/** An ordered, recorded ClickHouse DDL step; applied once, never edited afterwards. */
export interface ClickHouseMigration {
  name: string;
  statements: string[];
}
