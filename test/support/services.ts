// Where the local services are, as printed by `scripts/services env` and exported
// by the test command; a test run without them is a setup error, not a skip.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface LocalServices {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  clickhouseUrl: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run the tests with \`npm test\`, which starts the local services and exports it`,
    );
  }
  return value;
}

export function localServices(): LocalServices {
  return {
    databaseUrl: required("DATABASE_URL"),
    redisUrl: required("REDIS_URL"),
    kafkaBrokers: required("KAFKA_BROKERS").split(","),
    schemaRegistryUrl: required("SCHEMA_REGISTRY_URL"),
    clickhouseUrl: required("CLICKHOUSE_URL"),
  };
}

/** Stops or starts one local service through the same script developers use. */
export function localService(action: "up" | "down", name: string): void {
  execFileSync(`${REPO_ROOT}scripts/services`, [action, name], { stdio: "ignore", timeout: 180_000 });
}
