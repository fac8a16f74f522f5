import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import { createActiveTemplate, messagesOf, pipelineEnv, sinkRecords, testOrm } from "../support/pipeline.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { specSendRequest } from "../support/spec-examples.ts";

// SendService over REST, with two worker processes sharing the schedule and the partitions.
const run = randomUUID().slice(0, 8);
const template = `receipt_${run}`;
const sinkFile = join(mkdtempSync(join(tmpdir(), "send-service-")), "sink.jsonl");
let service: ServiceProcess;
let secondWorker: ServiceProcess;
let orm: MikroORM;

function request(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...JSON.parse(specSendRequest),
    templateName: template,
    requestId: `req-${randomUUID()}`,
    ...changes,
  };
}

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${service.httpUrl}/api/v1/notifications${path}`, {
    method,
    headers: { ...authHeaders("order-service", ["service"]), "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const env = { ...AUTH_ENV, ...pipelineEnv(sinkFile) };
  [service, secondWorker] = await Promise.all([
    startServiceProcess({ env }),
    startServiceProcess({ role: "worker", env }),
  ]);
  orm = testOrm();
  await createActiveTemplate(service.httpUrl, template, [
    {
      language_code: "ru",
      subject: "Чек {{orderId}}",
      body: "Сумма {{totalAmount}}",
      body_html: "<b>{{totalAmount}}</b>",
    },
  ]);
});

afterAll(async () => {
  await orm?.close(true);
  await Promise.all([service?.stop(), secondWorker?.stop()]);
});

async function sentAtOf(requestId: string): Promise<{ status: string; sent_at: string | null }[]> {
  return orm.em
    .fork()
    .getConnection()
    .execute(
      "SELECT status, sent_at FROM notification_message_log WHERE request_id = ? ORDER BY channel_type",
      [requestId],
    );
}

describe("SendService", () => {
  it("sends directly, answers each message's id and status, and answers a repeat as a duplicate", async () => {
    const body = request();
    const first = await call("POST", "/send/direct", body);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json.outcome).toBe("accepted");
    const messages = first.json.messages as {
      message_id: string;
      channel: string;
      status: string;
      recipient_key: string;
    }[];
    expect(messages.map((each) => [each.channel, each.status])).toEqual([
      ["email", "queued"],
      ["push_fcm", "queued"],
    ]);
    expect(messages[0]?.recipient_key).toBe("user:user-uuid-123");
    expect(messages[1]?.recipient_key).toMatch(/^user:user-uuid-123#pd:[0-9a-f]{12}$/);
    const again = await call("POST", "/send/direct", body);
    expect([again.status, again.json.outcome, again.json.messages]).toEqual([200, "duplicate", []]);
    expect(
      await eventually(
        async () => (await messagesOf(orm, String(body.requestId))).every((m) => m.status === "sent"),
        20_000,
      ),
    ).toBe(true);
    const progress = await call("GET", `/send/${body.requestId}/progress`);
    expect(progress.json).toMatchObject({ state: "direct", messages: "2", by_status: { sent: "2" } });
  });

  it("refuses an unknown template and a request nobody can receive, with the field named", async () => {
    const unknown = await call("POST", "/send/direct", request({ templateName: `missing_${run}` }));
    expect(unknown.status).toBe(404);
    expect((unknown.json.errors as { source: unknown }[])[0]?.source).toEqual({ pointer: "/template_name" });
    const nobody = await call(
      "POST",
      "/send/direct",
      request({ recipients: [{ emailTo: "a@example.com" }], deliveryOptions: { channels: ["sms"] } }),
    );
    expect(nobody.status).toBe(400);
    expect((nobody.json.errors as { source: unknown }[])[0]?.source).toEqual({ pointer: "/recipients" });
    expect(await call("GET", `/send/never-${run}/progress`)).toMatchObject({ status: 404 });
  });

  it("fires a scheduled send within a second of its time with two workers, and never one cancelled", async () => {
    const sendAt = new Date(Date.now() + 3_000);
    const due = request({ deliveryOptions: { channels: ["email"], sendAtUtc: sendAt.toISOString() } });
    const cancelled = request({
      deliveryOptions: { channels: ["email"], sendAtUtc: new Date(Date.now() + 4_000).toISOString() },
    });
    for (const body of [due, cancelled]) {
      const answer = await call("POST", "/send/direct", body);
      expect(answer.json.outcome).toBe("accepted");
      expect((answer.json.messages as { status: string }[])[0]?.status).toBe("scheduled");
    }
    const cancel = await call("POST", `/send/${cancelled.requestId}:cancel`, {});
    expect([cancel.status, cancel.json.cancelled_messages]).toEqual([200, "1"]);
    expect((await call("POST", `/send/${cancelled.requestId}:cancel`, {})).status).toBe(404);

    expect(
      await eventually(async () => (await sentAtOf(String(due.requestId)))[0]?.status === "sent", 10_000),
    ).toBe(true);
    const [sent] = await sentAtOf(String(due.requestId));
    const lateMs = new Date(sent?.sent_at ?? 0).getTime() - sendAt.getTime();
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(1_000);

    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const [ended] = await messagesOf(orm, String(cancelled.requestId));
    expect(ended?.status).toBe("cancelled");
    expect(sinkRecords(sinkFile).filter((record) => record.messageId === ended?.id)).toEqual([]);
    const progress = await call("GET", `/send/${cancelled.requestId}/progress`);
    expect(progress.json).toMatchObject({ state: "cancelled", by_status: { cancelled: "1" } });
  });

  it("fails a scheduled send whose template was deleted before its time, instead of letting it wait forever", async () => {
    const doomed = `doomed_${run}`;
    const id = await createActiveTemplate(service.httpUrl, doomed, [
      { language_code: "ru", subject: "{{orderId}}", body: "{{userName}}", body_html: "" },
    ]);
    const body = request({
      templateName: doomed,
      deliveryOptions: { channels: ["email"], sendAtUtc: new Date(Date.now() + 2_000).toISOString() },
    });
    expect((await call("POST", "/send/direct", body)).json.outcome).toBe("accepted");
    const admin = { ...authHeaders(), "content-type": "application/json" };
    const template = (await (
      await fetch(`${service.httpUrl}/api/v1/notifications/templates/${id}`, { headers: admin })
    ).json()) as {
      revision: string;
    };
    const removed = await fetch(`${service.httpUrl}/api/v1/notifications/templates/${id}`, {
      method: "DELETE",
      headers: { ...admin, "if-match": `"${template.revision}"` },
    });
    expect(removed.status, await removed.clone().text()).toBe(200);
    const failed = await eventually(
      async () => (await messagesOf(orm, String(body.requestId)))[0]?.status === "failed",
      10_000,
    );
    expect(failed, service.output().slice(-2000)).toBe(true);
    expect((await messagesOf(orm, String(body.requestId)))[0]?.status_details).toBe("UNKNOWN_TEMPLATE");
  });

  it("takes a bulk send at once and lets its progress be read until every message is sent", async () => {
    const recipients = Array.from({ length: 3_000 }, (_, index) => ({
      emailTo: `bulk-${index}@example.com`,
    }));
    const body: Record<string, unknown> = {
      ...request({ deliveryOptions: { channels: ["email"], priority: "low" } }),
      recipients,
    };
    const started = performance.now();
    const answer = await call("POST", "/send/bulk", body);
    const answeredMs = performance.now() - started;
    expect([answer.status, answer.json.outcome]).toEqual([200, "accepted"]);
    // Answered before any of its 3,000 messages was expanded.
    expect(answeredMs).toBeLessThan(2_000);
    expect((await call("POST", "/send/bulk", body)).json.outcome).toBe("duplicate");
    const done = await eventually(async () => {
      const progress = await call("GET", `/send/${body.requestId}/progress`);
      return (progress.json.by_status as Record<string, string> | undefined)?.sent === "3000";
    }, 60_000);
    expect(done, service.output().slice(-3000)).toBe(true);
    const progress = await call("GET", `/send/${body.requestId}/progress`);
    expect(progress.json).toMatchObject({ state: "released", messages: "3000" });
  });
});
