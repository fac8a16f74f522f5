import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SmtpPeer, startSmtpPeer } from "../../scripts/provider-peers/index.ts";
import { CONSUMER_GROUPS } from "../../server/worker.ts";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import { createActiveTemplate, messagesOf, pipelineEnv, testKafka, testOrm } from "../support/pipeline.ts";
import { smtpSlotEnv } from "../support/provider-peers.ts";
import {
  eventually,
  metricSample,
  type ServiceProcess,
  startServiceProcess,
} from "../support/service-process.ts";

// A provider's rate limit is the provider's, not a worker's: two worker processes share the
// dispatch partitions and one Redis bucket, and together stay within it.
const RATE = 20;
const MESSAGES = 120;
const run = randomUUID().slice(0, 8);
const template = `rate_${run}`;
const dir = mkdtempSync(join(tmpdir(), "provider-rate-limit-"));
let peer: SmtpPeer;
let workers: ServiceProcess[] = [];
let orm: MikroORM;

beforeAll(async () => {
  peer = await startSmtpPeer({ user: "mailer", password: "pw" });
  const env = {
    ...AUTH_ENV,
    ...pipelineEnv(join(dir, "sink.jsonl")),
    EMAIL_PROVIDERS: "primary",
    ...smtpSlotEnv({
      slot: "primary",
      host: peer.host,
      port: peer.port,
      ca: peer.ca,
      user: "mailer",
      password: "pw",
      from: "noreply@notify.example.ru",
      timeoutMs: 30_000,
      dir,
    }),
    EMAIL_PROVIDER_PRIMARY_RATE_PER_SECOND: String(RATE),
    PIPELINE_CHUNK_SIZE: "10",
  };
  workers = await Promise.all([startServiceProcess({ env }), startServiceProcess({ role: "worker", env })]);
  orm = testOrm();
  // Both in the dispatch group, with its partitions split between them, before any send.
  const admin = testKafka("rate-limit-test").admin();
  await admin.connect();
  const settled = await eventually(async () => {
    const { groups } = await admin.describeGroups([CONSUMER_GROUPS.dispatch("normal")]);
    return groups[0]?.state === "Stable" && groups[0].members.length === 2;
  }, 60_000);
  await admin.disconnect();
  expect(settled).toBe(true);
  await createActiveTemplate(workers[0]?.httpUrl ?? "", template, [
    { language_code: "ru", subject: "Письмо {{n}}", body: "Письмо {{n}}", body_html: "" },
  ]);
});

afterAll(async () => {
  await orm?.close(true);
  await Promise.all(workers.map((worker) => worker.stop()));
  await peer?.close();
});

describe("a provider's rate limit across workers", () => {
  it("keeps two workers together within the provider's rate, and every message still goes out", async () => {
    // Direct sends, each its own record of jobs on the dispatch topic, so both workers get some.
    const requestIds = await Promise.all(
      Array.from({ length: MESSAGES }, async (_, index) => {
        const requestId = `req-${randomUUID()}`;
        const response = await fetch(`${workers[0]?.httpUrl}/api/v1/notifications/send/direct`, {
          method: "POST",
          headers: { ...authHeaders("order-service", ["service"]), "content-type": "application/json" },
          body: JSON.stringify({
            requestId,
            templateName: template,
            recipients: [{ emailTo: `rate-${index}-${run}@example.ru` }],
            payloadVariables: { n: String(index) },
            deliveryOptions: { channels: ["email"] },
          }),
        });
        expect(response.status).toBe(200);
        return requestId;
      }),
    );
    const done = await eventually(async () => {
      const all = (await Promise.all(requestIds.map((id) => messagesOf(orm, id)))).flat();
      return all.length === MESSAGES && all.every((message) => message.status === "sent");
    }, 30_000);
    expect(done, workers.map((worker) => worker.output().slice(-3000)).join("\n")).toBe(true);

    const times = peer
      .messages()
      .filter((message) => message.envelope.to.some((to) => to.endsWith(`-${run}@example.ru`)))
      .map((message) => new Date(message.receivedAt).getTime())
      .sort((a, b) => a - b);
    expect(times).toHaveLength(MESSAGES);
    // Sends start on the bucket's beat, and arrive as the pooled connections carry them, a few
    // together at times: over any 3 s the rate and the bucket's burst of a tenth of a second (2),
    // with room for those carried up to half a second late.
    const windowMs = 3_000;
    let busiest = 0;
    for (const start of times)
      busiest = Math.max(busiest, times.filter((at) => at >= start && at < start + windowMs).length);
    expect(busiest).toBeLessThanOrEqual((RATE * (windowMs + 500)) / 1000 + 2);
    // n messages span n − 1 intervals, less the bucket's burst of 2 sent at once at the start.
    const seconds = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;
    expect((MESSAGES - 3) / seconds).toBeLessThanOrEqual(RATE * 1.1);
    // Both workers sent some of them: the limit held across processes, not inside one.
    const sentBy = await Promise.all(
      workers.map((worker) =>
        metricSample(worker, "notification_dispatched_total", { channel: "email", outcome: "sent" }),
      ),
    );
    expect(
      sentBy.every((count) => count > 0),
      JSON.stringify(sentBy),
    ).toBe(true);
  });
});
