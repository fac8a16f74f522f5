// A Kafka broker and databases of a bench's own, beside the shared local services: the
// worker's topics and consumer groups have fixed names, so on the shared broker a test's worker
// would take part of the bench's records (and its campaigns, on the shared database), and the
// message log of earlier runs would make each run slower than the one before.
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as pause } from "node:timers/promises";
import { testClickHouse, testKafka, testOrm } from "../test/support/pipeline.ts";
import { freePort } from "../test/support/service-process.ts";
import { REPO_ROOT } from "../test/support/services.ts";

type Say = (line: string) => void;

/**
 * What a bench runs on, started before anything else: its own broker (`kafka`), its own
 * databases (`database`), or the shared ones. A broker whose databases then failed is stopped
 * before the error goes on: left running, it would slow every bench after it.
 */
export async function startPrivateServices(options: {
  tempDir: string;
  name: string;
  kafka: boolean;
  database: boolean;
  say: Say;
}): Promise<{ kafka?: { stop(): void }; databases?: { drop(): Promise<void> } }> {
  const kafka = options.kafka ? await startPrivateKafka(options.tempDir, options.say) : undefined;
  try {
    const databases = options.database ? await createPrivateDatabases(options.name, options.say) : undefined;
    return { kafka, databases };
  } catch (error) {
    kafka?.stop();
    throw error;
  }
}

/**
 * A Kafka broker (scripts/services with its data under `tempDir`, on free ports), set as
 * KAFKA_BROKERS for the processes and clients started after it. `stop` stops it.
 */
async function startPrivateKafka(tempDir: string, say: Say): Promise<{ stop(): void }> {
  const [port, controllerPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    LOCAL_DIR: join(tempDir, "local"),
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
  };
  // The jars of the shared install, so nothing is downloaded.
  mkdirSync(join(tempDir, "local", "kafka"), { recursive: true });
  symlinkSync(join(REPO_ROOT, ".local", "kafka", "libs"), join(tempDir, "local", "kafka", "libs"));
  say(`starting a private Kafka broker on 127.0.0.1:${port}`);
  execFileSync(join(REPO_ROOT, "scripts", "services"), ["up", "kafka"], {
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  process.env.KAFKA_BROKERS = `127.0.0.1:${port}`;
  await groupCoordinatorReady();
  return {
    stop() {
      try {
        execFileSync(join(REPO_ROOT, "scripts", "services"), ["down", "kafka"], {
          env,
          stdio: ["ignore", "ignore", "inherit"],
        });
      } catch (error) {
        say(`stopping the private Kafka broker failed: ${(error as Error).message}`);
      }
    },
  };
}

/**
 * A PostgreSQL and a ClickHouse database named `name` on the local servers, migrated with the
 * built service, set as DATABASE_URL and CLICKHOUSE_DATABASE for what starts after them.
 * `drop` drops both and sets the shared ones back.
 */
async function createPrivateDatabases(name: string, say: Say): Promise<{ drop(): Promise<void> }> {
  const sharedDatabaseUrl = process.env.DATABASE_URL ?? "";
  const sharedStatsDatabase = process.env.CLICKHOUSE_DATABASE;
  const server = testOrm();
  try {
    await server.em.getConnection().execute(`CREATE DATABASE ${name}`);
  } finally {
    await server.close(true);
  }
  const statsServer = testClickHouse();
  try {
    await statsServer.command({ query: `CREATE DATABASE ${name}` });
  } finally {
    await statsServer.close();
  }
  const url = new URL(sharedDatabaseUrl);
  url.pathname = `/${name}`;
  process.env.DATABASE_URL = url.toString();
  process.env.CLICKHOUSE_DATABASE = name;
  say(`migrating a private database ${name}`);
  execFileSync(process.execPath, [join(REPO_ROOT, "dist", "server", "main.js"), "migrate"], {
    env: process.env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return {
    async drop() {
      if (sharedStatsDatabase === undefined) delete process.env.CLICKHOUSE_DATABASE;
      else process.env.CLICKHOUSE_DATABASE = sharedStatsDatabase;
      const statsServer = testClickHouse();
      try {
        await statsServer.command({ query: `DROP DATABASE IF EXISTS ${name}` });
      } catch (error) {
        say(`dropping the private ClickHouse database ${name} failed: ${(error as Error).message}`);
      } finally {
        await statsServer.close();
      }
      process.env.DATABASE_URL = sharedDatabaseUrl;
      const server = testOrm();
      try {
        // Without FORCE, which may not end the autovacuum worker of another role: PostgreSQL ends
        // that one itself. The worker's connections may take a moment to close.
        for (let attempt = 1; ; attempt++) {
          try {
            await server.em.getConnection().execute(`DROP DATABASE IF EXISTS ${name}`);
            break;
          } catch (error) {
            if (attempt === 10) throw error;
            await pause(1_000);
          }
        }
      } catch (error) {
        say(`dropping the private database ${name} failed: ${(error as Error).message}`);
      } finally {
        await server.close(true);
      }
    },
  };
}

/**
 * Waits until the new broker coordinates consumer groups: it creates __consumer_offsets on the
 * first ask, and a consumer that joins before that gives up (KafkaJSGroupCoordinatorNotFound)
 * without saying so in the worker's logs, leaving the worker up and its groups empty.
 */
async function groupCoordinatorReady(): Promise<void> {
  const admin = testKafka("bench-coordinator-probe").admin();
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.describeGroups(["bench-coordinator-probe"]);
        return;
      } catch (error) {
        if (attempt === 120) throw error;
        await pause(500);
      }
    }
  } finally {
    await admin.disconnect();
  }
}
