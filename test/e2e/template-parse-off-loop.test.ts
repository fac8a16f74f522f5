// Templates near the size limit, sent to the built service: mustache.js takes hundreds of
// milliseconds to parse one, and while a version is written and previewed the event loop
// must keep answering health checks.
import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.ts";

/** `tags` tags spread evenly over about `chars` characters of HTML. */
function bigTemplate(chars: number, tags: number): string {
  const gap = Math.floor(chars / tags) - "{{x}}".length;
  const filler = "<p>text</p>".repeat(Math.ceil(gap / 11)).slice(0, gap);
  return `${filler}{{x}}`.repeat(tags);
}

describe("templates near the size limit against the service process", () => {
  let service: ServiceProcess;
  let templateId: string;

  const rest = async (method: string, path: string, body: JsonObject) => {
    const response = await fetch(`${service.httpUrl}/api/v1/notifications${path}`, {
      method,
      headers: { ...authHeaders(), "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as JsonObject };
  };

  beforeAll(async () => {
    service = await startServiceProcess({ env: AUTH_ENV });
    const created = await rest("POST", "/templates", {
      name: `large_${randomUUID().slice(0, 8)}`,
      channel_type: "CHANNEL_EMAIL",
      default_language_code: "ru",
    });
    templateId = String(created.body.id);
  });

  afterAll(async () => {
    await service?.stop();
  });

  it("writes and previews 499,000-character bodies while the event loop stays under 50 ms", async () => {
    // A service in production has served requests before: warm the paths up with small content.
    for (let i = 0; i < 10; i++) {
      const small = await rest("POST", `/templates/${templateId}/versions`, {
        locales: [{ language_code: "ru", subject: "Тема", body: "Текст", body_html: `<p>{{x}} ${i}</p>` }],
      });
      expect(small.status, JSON.stringify(small.body)).toBe(200);
      const preview = await rest("POST", `/templates/${templateId}:preview`, {
        version: Number(small.body.version),
        language_code: "ru",
        variables: { x: "y" },
      });
      expect(preview.status).toBe(200);
    }
    await scrapeEventLoopMaxSeconds(service);
    let loading = true;
    const healthMs: number[] = [];
    const healthChecks = (async () => {
      while (loading) {
        const started = performance.now();
        expect((await fetch(`${service.httpUrl}/healthz`)).status).toBe(200);
        healthMs.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    // 8,000 tags render within the default budget; 50,000 are 100,000 nodes, more than one
    // render may visit, but a valid version all the same.
    const outcomes: string[] = [];
    for (const [tags, previewStatus] of [
      [8_000, 200],
      [50_000, 400],
    ] as const) {
      const bodyHtml = bigTemplate(499_000, tags);
      const written = await rest("POST", `/templates/${templateId}/versions`, {
        locales: [{ language_code: "ru", subject: "Тема", body: "Текст", body_html: bodyHtml }],
      });
      expect(written.status, JSON.stringify(written.body).slice(0, 500)).toBe(200);
      const preview = await rest("POST", `/templates/${templateId}:preview`, {
        version: Number(written.body.version),
        language_code: "ru",
        variables: { x: "y" },
      });
      expect(preview.status, JSON.stringify(preview.body).slice(0, 500)).toBe(previewStatus);
      // Each `{{x}}` renders as "y": four characters fewer.
      outcomes.push(
        previewStatus === 200
          ? String(bodyHtml.length - String(preview.body.body_html).length)
          : String(preview.status),
      );
    }
    loading = false;
    await healthChecks;
    const loopMaxMs = (await scrapeEventLoopMaxSeconds(service)) * 1000;

    expect(outcomes).toEqual([String(8_000 * 4), "400"]);
    expect(healthMs.length).toBeGreaterThan(0);
    const figures = `event loop max ${loopMaxMs.toFixed(1)} ms, health check max ${Math.max(...healthMs).toFixed(1)} ms over ${healthMs.length}`;
    console.log(figures);
    expect(loopMaxMs, figures).toBeLessThan(50);
    expect(Math.max(...healthMs), figures).toBeLessThan(50);
  });
});

/** The worst event-loop delay since the previous scrape, in seconds. */
async function scrapeEventLoopMaxSeconds(service: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
  const line = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text);
  if (!line?.[1]) throw new Error("no nodejs_eventloop_lag_max_seconds in /metrics");
  return Number(line[1]);
}
