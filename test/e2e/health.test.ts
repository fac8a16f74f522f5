import { spawnSync } from "node:child_process";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.ts";
import { ErrorDetailSchema } from "../../gen/platform/notification/v1/errors_pb.ts";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import {
  eventually,
  freePort,
  type ServiceProcess,
  startServiceProcess,
} from "../support/service-process.ts";
import { localService, REPO_ROOT } from "../support/services.ts";

const DEPENDENCIES = ["postgres", "redis", "kafka", "schema-registry", "clickhouse"];

describe("the built service as a process", () => {
  let service: ServiceProcess;
  let transports: Record<"connect" | "grpc" | "grpc-web", Transport>;

  beforeAll(async () => {
    service = await startServiceProcess({ env: AUTH_ENV });
    transports = {
      connect: createConnectTransport({ baseUrl: service.httpUrl, httpVersion: "1.1" }),
      grpc: createGrpcTransport({ baseUrl: service.grpcUrl }),
      "grpc-web": createGrpcWebTransport({ baseUrl: service.httpUrl, httpVersion: "1.1" }),
    };
    const ready = await eventually(async () => (await fetch(`${service.httpUrl}/readyz`)).ok, 30_000);
    expect(ready, service.output()).toBe(true);
  });

  afterAll(async () => {
    localService("up", "redis");
    await service?.stop();
  });

  it("is alive at /healthz", async () => {
    const response = await fetch(`${service.httpUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "alive" });
  });

  it("tells anonymous callers only that it is ready at /readyz", async () => {
    const response = await fetch(`${service.httpUrl}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "serving" });
  });

  it("reports every dependency ready at /readyz to an admin", async () => {
    const response = await fetch(`${service.httpUrl}/readyz`, { headers: authHeaders() });
    const body = (await response.json()) as {
      status: string;
      dependencies: Record<string, { state: string }>;
    };
    expect(response.status).toBe(200);
    expect(body.status).toBe("serving");
    expect(Object.keys(body.dependencies).sort()).toEqual([...DEPENDENCIES].sort());
    for (const name of DEPENDENCIES) expect(body.dependencies[name]?.state).toBe("serving");
    const asUser = await fetch(`${service.httpUrl}/readyz`, { headers: authHeaders("u-1", ["user"]) });
    expect(await asUser.json()).toEqual({ status: "serving" });
  });

  for (const surface of ["connect", "grpc", "grpc-web"] as const) {
    it(`answers Health.Check for the service and each dependency over ${surface}`, async () => {
      const health = createClient(Health, transports[surface]);
      for (const name of ["", ...DEPENDENCIES]) {
        const answer = await health.check({ service: name });
        expect(answer.status, `${surface} ${name}`).toBe(ServingStatus.SERVING);
      }
    });

    it(`answers NOT_FOUND with an ErrorDetail for an unknown service over ${surface}`, async () => {
      const health = createClient(Health, transports[surface]);
      const error = await health.check({ service: "no-such-dependency" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      const connectError = error as ConnectError;
      expect(connectError.code).toBe(Code.NotFound);
      const [detail] = connectError.findDetails(ErrorDetailSchema);
      expect(detail?.code).toBe("NOT_FOUND");
      expect(detail?.parameter).toBe("service");
      expect(detail?.title).toBe("Ресурс не найден");
    });

    it(`lists every status over ${surface}`, async () => {
      const health = createClient(Health, transports[surface]);
      const answer = await health.list({});
      expect(Object.keys(answer.statuses).sort()).toEqual(["", ...DEPENDENCIES].sort());
    });
  }

  it("answers the same over REST, with the spec's error body for an unknown service", async () => {
    const ok = await fetch(`${service.httpUrl}/api/v1/notifications/health?service=kafka`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "SERVING" });

    const all = await fetch(`${service.httpUrl}/api/v1/notifications/health/all`);
    const statuses = ((await all.json()) as { statuses: Record<string, { status: string }> }).statuses;
    expect(statuses.clickhouse).toEqual({ status: "SERVING" });

    const missing = await fetch(`${service.httpUrl}/api/v1/notifications/health?service=nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      errors: [
        {
          code: "NOT_FOUND",
          title: "Ресурс не найден",
          detail: 'unknown service "nope"',
          source: { parameter: "service" },
        },
      ],
    });
  });

  it("rejects an unknown REST route, a wrong method and an unknown parameter with the spec's body", async () => {
    const unknown = await fetch(`${service.httpUrl}/api/v1/notifications/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe(
      "ROUTE_NOT_FOUND",
    );

    const wrongMethod = await fetch(`${service.httpUrl}/api/v1/notifications/health`, { method: "DELETE" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET");

    const badParameter = await fetch(`${service.httpUrl}/api/v1/notifications/health?colour=red`);
    expect(badParameter.status).toBe(400);
    expect(await badParameter.json()).toMatchObject({
      errors: [{ code: "VALIDATION_ERROR", source: { parameter: "colour" } }],
    });
  });

  it("counts calls in /metrics by procedure and surface", async () => {
    const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
    expect(text).toMatch(
      /notification_rpc_requests_total\{[^}]*procedure="grpc.health.v1.Health\/Check"[^}]*surface="grpc"/,
    );
    expect(text).toMatch(/surface="rest"/);
    expect(text).toMatch(/process_resident_memory_bytes/);
  });

  it("turns unready when Redis stops, streams the change to watchers, and recovers when it returns", async () => {
    const health = createClient(Health, transports.grpc);
    const watch = new AbortController();
    const seen: ServingStatus[] = [];
    const watching = (async () => {
      for await (const answer of health.watch({ service: "redis" }, { signal: watch.signal }))
        seen.push(answer.status);
    })().catch((error: unknown) => {
      // Only the test's own abort at the end may end the stream.
      if (!(error instanceof ConnectError && error.code === Code.Canceled)) throw error;
    });
    expect(await eventually(async () => seen.includes(ServingStatus.SERVING), 5_000)).toBe(true);

    localService("down", "redis");
    const unready = await eventually(
      async () => (await fetch(`${service.httpUrl}/readyz`)).status === 503,
      15_000,
    );
    expect(unready).toBe(true);
    const body = (await (await fetch(`${service.httpUrl}/readyz`, { headers: authHeaders() })).json()) as {
      dependencies: Record<string, { state: string }>;
    };
    expect(body.dependencies.redis?.state).toBe("not_serving");
    expect(body.dependencies.postgres?.state).toBe("serving");
    expect(await eventually(async () => seen.includes(ServingStatus.NOT_SERVING), 10_000)).toBe(true);

    localService("up", "redis");
    const ready = await eventually(
      async () => (await fetch(`${service.httpUrl}/readyz`)).status === 200,
      20_000,
    );
    expect(ready).toBe(true);
    expect(await eventually(async () => seen.at(-1) === ServingStatus.SERVING, 10_000)).toBe(true);
    watch.abort();
    await watching;
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVING]);
  });
});

describe("readiness with a dependency down", () => {
  // ClickHouse and the schema registry point at closed ports (the registry's URL with a
  // password), so they fail for real without stopping any shared service.
  let hidden: ServiceProcess;
  let shown: ServiceProcess;
  const PASSWORD = "s3cr3t-registry-pass";

  beforeAll(async () => {
    const [clickhousePort, registryPort] = [await freePort(), await freePort()];
    const broken = {
      ...AUTH_ENV,
      CLICKHOUSE_URL: `http://127.0.0.1:${clickhousePort}`,
      SCHEMA_REGISTRY_URL: `http://registry:${PASSWORD}@127.0.0.1:${registryPort}`,
    };
    [hidden, shown] = await Promise.all([
      startServiceProcess({ role: "api", env: broken }),
      startServiceProcess({ role: "api", env: { ...broken, READYZ_DETAILS: "true" } }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([hidden?.stop(), shown?.stop()]);
  });

  type Details = { status: string; dependencies: Record<string, { state: string; reason?: string }> };

  it("answers anonymous callers 503 with the status alone, no reason text", async () => {
    const response = await fetch(`${hidden.httpUrl}/readyz`);
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toEqual({ status: "not_serving" });
    const asUser = await fetch(`${hidden.httpUrl}/readyz`, {
      headers: authHeaders("u-1", ["user", "support"]),
    });
    expect(await asUser.text()).toBe(text);
    // The public health RPC answers statuses only, over REST too.
    const all = await (await fetch(`${hidden.httpUrl}/api/v1/notifications/health/all`)).text();
    expect(JSON.parse(all)).toMatchObject({ statuses: { clickhouse: { status: "NOT_SERVING" } } });
    for (const leak of [/ECONNREFUSED/, /127\.0\.0\.1/, /fetch failed/, /reason/]) {
      expect(text).not.toMatch(leak);
      expect(all).not.toMatch(leak);
    }
  });

  it("shows an admin each dependency's state and reason, passwords hidden", async () => {
    const response = await fetch(`${hidden.httpUrl}/readyz`, { headers: authHeaders() });
    expect(response.status).toBe(503);
    const body = (await response.json()) as Details;
    expect(body.status).toBe("not_serving");
    expect(body.dependencies.postgres).toEqual({ state: "serving" });
    expect(body.dependencies.clickhouse?.state).toBe("not_serving");
    expect(body.dependencies.clickhouse?.reason).toMatch(/\w/);
    expect(body.dependencies["schema-registry"]?.state).toBe("not_serving");
    expect(JSON.stringify(body)).not.toContain(PASSWORD);
  });

  it("shows everyone the details when READYZ_DETAILS is on", async () => {
    const response = await fetch(`${shown.httpUrl}/readyz`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as Details;
    expect(body.dependencies.clickhouse?.state).toBe("not_serving");
    expect(body.dependencies.clickhouse?.reason).toMatch(/\w/);
    expect(JSON.stringify(body)).not.toContain(PASSWORD);
    expect(shown.output()).not.toContain(PASSWORD);
  });
});

describe("process lifecycle", () => {
  it("ends with code 0 on SIGTERM within the shutdown bound, while a Watch stream is open", async () => {
    const service = await startServiceProcess({ env: { SHUTDOWN_TIMEOUT_MS: "5000" } });
    const health = createClient(Health, createGrpcTransport({ baseUrl: service.grpcUrl }));
    const first = await health.watch({ service: "" })[Symbol.asyncIterator]().next();
    expect(first.done).toBe(false);
    const { code, signal, ms } = await service.stop();
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(ms).toBeLessThan(5_000);
    expect(service.logs.some((line) => line.message === "stopped" && line.clean === true)).toBe(true);
  });

  it("refuses to start with a clear message when a variable is missing or malformed", () => {
    const { DATABASE_URL: _, ...withoutDatabase } = process.env;
    const result = spawnSync(process.execPath, ["dist/server/main.js", "api"], {
      cwd: REPO_ROOT,
      env: { ...withoutDatabase, HTTP_PORT: "eighty", KAFKA_BROKERS: "not a broker" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("DATABASE_URL is required");
    expect(result.stderr).toContain('HTTP_PORT must be an integer from 1 to 65535, got "eighty"');
    expect(result.stderr).toContain("KAFKA_BROKERS must be host:port");
  });
});
