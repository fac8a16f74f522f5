import type { Infrastructure } from "../infrastructure.ts";

/** One dependency's liveness check: resolves when it answered a real request. */
export interface DependencyProbe {
  name: string;
  check(signal: AbortSignal): Promise<void>;
}

export function dependencyProbes(infra: Infrastructure): DependencyProbe[] {
  let ormConnected = false;
  return [
    {
      name: "postgres",
      async check() {
        // The ORM is built without connecting, so a database that is down at start
        // does not stop the process; the first probe opens its pool.
        if (!ormConnected) {
          await infra.orm.connect();
          ormConnected = true;
        }
        const result = await infra.orm.checkConnection();
        if (!result.ok) throw new Error(result.reason ?? "no connection");
      },
    },
    {
      name: "redis",
      async check() {
        const answer = await infra.redis.ping();
        if (answer !== "PONG") throw new Error(`unexpected PING answer ${answer}`);
      },
    },
    {
      name: "kafka",
      async check() {
        await infra.kafkaAdmin.connect();
        const cluster = await infra.kafkaAdmin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error("no brokers in the cluster");
      },
    },
    {
      name: "schema-registry",
      async check(signal) {
        const response = await fetch(`${infra.schemaRegistryUrl}/config`, { signal });
        await response.body?.cancel();
        if (!response.ok) throw new Error(`GET /config answered ${response.status}`);
      },
    },
    {
      name: "clickhouse",
      async check(signal) {
        const result = await infra.clickhouse.query({
          query: "SELECT 1",
          format: "JSONEachRow",
          abort_signal: signal,
        });
        await result.json();
      },
    },
  ];
}
