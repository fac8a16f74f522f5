// How much a service process's event loop was held while some work ran beside it, as a
// person would notice (health checks waiting) and as the process measured it.
import type { ServiceProcess } from "./service-process.ts";

export interface LoopFigures {
  /** The worst event-loop delay the service saw (prom-client's monitorEventLoopDelay), in ms. */
  loopMaxMs: number;
  /** The slowest /healthz round trip seen from the test, in ms. */
  healthMaxMs: number;
  healthChecks: number;
  /** The figures in words, for a failing assertion's message. */
  figures: string;
}

/** Runs `work` while polling the service's /healthz, and measures both. */
export async function underHealthChecks(
  service: ServiceProcess,
  work: () => Promise<void>,
): Promise<LoopFigures> {
  // prom-client's event-loop histogram is reset by each scrape: this one starts the window,
  // the one after the work reads its worst delay.
  await scrapeEventLoopMaxSeconds(service);
  let working = true;
  const healthMs: number[] = [];
  const healthChecks = (async () => {
    while (working) {
      const started = performance.now();
      const answer = await fetch(`${service.httpUrl}/healthz`);
      if (answer.status !== 200) throw new Error(`/healthz answered ${answer.status}`);
      healthMs.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  try {
    await work();
  } finally {
    working = false;
    await healthChecks;
  }
  const loopMaxMs = (await scrapeEventLoopMaxSeconds(service)) * 1000;
  if (healthMs.length === 0) throw new Error("no health check completed while the work ran");
  const healthMaxMs = Math.max(...healthMs);
  const figures = `event loop max ${loopMaxMs.toFixed(1)} ms, health check max ${healthMaxMs.toFixed(1)} ms over ${healthMs.length}`;
  return { loopMaxMs, healthMaxMs, healthChecks: healthMs.length, figures };
}

/** The worst event-loop delay since the previous scrape, in seconds. */
async function scrapeEventLoopMaxSeconds(service: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
  const line = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text);
  if (!line?.[1]) throw new Error("no nodejs_eventloop_lag_max_seconds in /metrics");
  return Number(line[1]);
}
