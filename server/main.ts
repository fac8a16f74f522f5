import { ConfigError, loadConfig } from "./config.ts";
import { createClickHouse, createOrm } from "./infrastructure.ts";
import { createLogger } from "./logger.ts";
import { runMigrations } from "./migrate.ts";
import { startService } from "./service.ts";

// Usage: node dist/server/main.js [api|worker|gateway|all|migrate]
// Without an argument the role comes from ROLE (default "all").
const command = process.argv[2];

function configOrExit() {
  try {
    return loadConfig(process.env, command === "migrate" ? undefined : command);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`notification-service: ${error.message}\n`);
    process.exit(2);
  }
}

const config = configOrExit();
const logger = createLogger(config.logLevel);

// Node's warnings go to the structured log instead of bare stderr.
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  logger.warn({ warning: warning.name, detail: warning.message }, "node warning");
});
process.on("uncaughtException", (error) => {
  logger.error({ err: error }, "uncaught exception");
  process.exit(1);
});
process.on("unhandledRejection", (reason) => {
  logger.error({ err: reason }, "unhandled rejection");
  process.exit(1);
});

if (command === "migrate") {
  const infra = { orm: createOrm(config.postgres, logger), clickhouse: createClickHouse(config.clickhouse) };
  try {
    await runMigrations(infra, logger);
  } catch (error) {
    logger.error({ err: error }, "migration failed");
    process.exitCode = 1;
  } finally {
    await Promise.all([infra.orm.close(true), infra.clickhouse.close()]);
  }
} else {
  const started = performance.now();
  const service = await startService(config, logger);
  logger.info(
    {
      role: config.role,
      urls: Object.fromEntries(service.servers.map((server) => [server.name, server.url])),
      startMs: Math.round(performance.now() - started),
    },
    "notification service started",
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, "shutting down");
    const hardStop = setTimeout(() => {
      logger.error({}, "shutdown did not finish in time, exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs + 2_000);
    hardStop.unref();
    const clean = await service.stop();
    logger.info({ clean }, "stopped");
    process.exit(clean ? 0 : 1);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}
