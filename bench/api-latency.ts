// Latency and throughput of one cached read (TemplateService.GetTemplate) on each API
// surface of the built service, with the local services up: `npm run bench:api`
// (REQUESTS=… per surface, CONCURRENCY=… requests in flight).
import { readFileSync } from "node:fs";
import { createClient } from "@connectrpc/connect";
import { TemplateService } from "../gen/platform/notification/v1/template_service_pb.ts";
import { AUTH_ENV, authHeaders, authInterceptor } from "../test/support/credentials.ts";
import { startServiceProcess } from "../test/support/service-process.ts";
import { transportsOf } from "../test/support/surfaces.ts";

const requests = Number(process.env.REQUESTS ?? 5_000);
const concurrency = Number(process.env.CONCURRENCY ?? 16);

const service = await startServiceProcess({ env: { ...AUTH_ENV, LOG_LEVEL: "warn" } });
try {
  const headers = authHeaders("bench", ["service"]);
  const created = await fetch(`${service.httpUrl}/api/v1/notifications/templates`, {
    method: "POST",
    headers: { ...authHeaders("bench-admin", ["admin"]), "content-type": "application/json" },
    body: JSON.stringify({
      name: `bench_${Date.now()}`,
      channel_type: "CHANNEL_EMAIL",
      default_language_code: "ru",
    }),
  });
  const { id } = (await created.json()) as { id: string };
  const transports = transportsOf(service, [authInterceptor("bench", ["service"])]);
  const surfaces: Record<string, () => Promise<unknown>> = {
    rest: async () => {
      const response = await fetch(`${service.httpUrl}/api/v1/notifications/templates/${id}`, { headers });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    },
  };
  for (const [name, transport] of Object.entries(transports)) {
    const client = createClient(TemplateService, transport);
    surfaces[name] = () => client.getTemplate({ templateId: id });
  }

  console.log(
    `GetTemplate (cached read, authenticated, validated), ${requests} requests per surface, ${concurrency} in flight`,
  );
  for (const [name, call] of Object.entries(surfaces)) {
    for (let i = 0; i < 200; i++) await call();
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests) {
          next++;
          const t0 = performance.now();
          await call();
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (p: number) =>
      (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(2);
    console.log(
      `  ${name.padEnd(9)} ${Math.round(latencies.length / seconds)} req/s   p50 ${at(0.5)} ms   p99 ${at(0.99)} ms   max ${at(1)} ms`,
    );
  }
  const rss = Number(
    /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${service.child.pid}/status`, "utf8"))?.[1] ?? 0,
  );
  console.log(`  service RSS after the run: ${(rss / 1024).toFixed(0)} MiB`);
  const metrics = await (await fetch(`${service.httpUrl}/metrics`)).text();
  for (const line of metrics.split("\n")) {
    if (line.startsWith("notification_cache_lookups_total") && line.includes('cache="templates"')) {
      console.log(`  ${line.replace(/service="[^"]*",?/, "")}`);
    }
  }
} finally {
  await service.stop();
}
