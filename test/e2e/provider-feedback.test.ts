import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type SmscPeer,
  type SmsRuPeer,
  startSmscPeer,
  startSmsRuPeer,
  startUnisenderGoPeer,
  type UnisenderGoPeer,
} from "../../scripts/provider-peers/index.ts";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import { createActiveTemplate, messagesOf, pipelineEnv, testOrm } from "../support/pipeline.ts";
import {
  eventually,
  freePort,
  metricSample,
  type ServiceProcess,
  startServiceProcess,
} from "../support/service-process.ts";

// What providers tell us afterwards, through the built service: Unisender Go's signed webhook,
// SMS.ru's signed callback and SMSC's status polls, each against a local peer of the vendor.
const run = randomUUID().slice(0, 8);
const template = `feedback_${run}`;
const dir = mkdtempSync(join(tmpdir(), "provider-feedback-"));
let unisender: UnisenderGoPeer;
let smsRu: SmsRuPeer;
let smsc: SmscPeer;
let service: ServiceProcess;
let api: string;
let orm: MikroORM;

function caFile(name: string, ca: string): string {
  const file = join(dir, `${name}-ca.pem`);
  writeFileSync(file, ca);
  return file;
}

async function send(recipients: object[], channels: string[]): Promise<string> {
  const requestId = `req-${randomUUID()}`;
  const response = await fetch(`${api}/api/v1/notifications/send/bulk`, {
    method: "POST",
    headers: { ...authHeaders("order-service", ["service"]), "content-type": "application/json" },
    body: JSON.stringify({
      requestId,
      recipients,
      templateName: template,
      languageCode: "ru",
      payloadVariables: { code: "4711" },
      deliveryOptions: { channels },
    }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return requestId;
}

async function ended(requestId: string, status: string, timeoutMs = 20_000): Promise<boolean> {
  return eventually(async () => {
    const messages = await messagesOf(orm, requestId);
    return messages.length > 0 && messages.every((message) => message.status === status);
  }, timeoutMs);
}

beforeAll(async () => {
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  [unisender, smsRu, smsc] = await Promise.all([
    startUnisenderGoPeer({
      apiKey: "ug-key",
      webhookUrl: `${api}/api/v1/notifications/webhooks/email-primary`,
    }),
    startSmsRuPeer({
      apiId: "smsru-key",
      callbackUrl: `${api}/api/v1/notifications/webhooks/sms-primary`,
      callbackDelayMs: 200,
    }),
    startSmscPeer({ login: "smsc-login", password: "smsc-pw", deliverAfterMs: 200 }),
  ]);
  service = await startServiceProcess({
    httpPort: port,
    env: {
      ...AUTH_ENV,
      ...pipelineEnv(join(dir, "sink.jsonl")),
      EMAIL_PROVIDERS: "primary",
      EMAIL_PROVIDER_PRIMARY_TYPE: "unisender_go",
      EMAIL_PROVIDER_PRIMARY_API_KEY: "ug-key",
      EMAIL_PROVIDER_PRIMARY_BASE_URL: unisender.url,
      EMAIL_PROVIDER_PRIMARY_TLS_CA_FILE: caFile("unisender", unisender.ca),
      EMAIL_PROVIDER_PRIMARY_FROM: "noreply@notify.example.ru",
      SMS_PROVIDERS: "primary,secondary",
      SMS_PROVIDER_PRIMARY_TYPE: "smsru",
      SMS_PROVIDER_PRIMARY_API_KEY: "smsru-key",
      SMS_PROVIDER_PRIMARY_BASE_URL: smsRu.url,
      SMS_PROVIDER_PRIMARY_TLS_CA_FILE: caFile("smsru", smsRu.ca),
      SMS_PROVIDER_SECONDARY_TYPE: "smsc",
      SMS_PROVIDER_SECONDARY_LOGIN: "smsc-login",
      SMS_PROVIDER_SECONDARY_PASSWORD: "smsc-pw",
      SMS_PROVIDER_SECONDARY_BASE_URL: smsc.url,
      SMS_PROVIDER_SECONDARY_TLS_CA_FILE: caFile("smsc", smsc.ca),
      PROVIDER_STATUS_POLL_MS: "500",
      PROVIDER_BREAKER_FAILURES: "1",
      DISPATCH_RETRY_INITIAL_MS: "200",
    },
  });
  orm = testOrm();
  await createActiveTemplate(api, template, [
    {
      language_code: "ru",
      subject: "Код",
      body: "Ваш код {{code}}",
      body_html: "<p>Ваш код <b>{{code}}</b></p>",
    },
  ]);
  await createActiveTemplate(
    api,
    `${template}.sms`,
    [{ language_code: "ru", subject: "", body: "Ваш код {{code}}", body_html: "" }],
    "CHANNEL_SMS",
  );
});

afterAll(async () => {
  await orm?.close(true);
  await service?.stop();
  await Promise.all([unisender?.close(), smsRu?.close(), smsc?.close()]);
});

describe("provider feedback", () => {
  it("marks an email delivered on Unisender Go's webhook, and suppresses an address it reports hard bounced", async () => {
    const good = `reader-${run}@example.ru`;
    const bad = `bounce-${run}@example.ru`;
    unisender.reportAs(bad, "hard_bounced");
    const delivered = await send([{ emailTo: good }], ["email"]);
    const bounced = await send([{ emailTo: bad }], ["email"]);
    expect(await ended(delivered, "delivered"), service.output().slice(-3000)).toBe(true);
    expect(await ended(bounced, "failed")).toBe(true);
    expect((await messagesOf(orm, bounced))[0]?.status_details).toMatch(/^PROVIDER_BOUNCED/);
    const again = await send([{ emailTo: bad }], ["email"]);
    expect(await ended(again, "suppressed", 10_000)).toBe(true);
    expect((await messagesOf(orm, again))[0]?.status_details).toBe("SUPPRESSED_HARD_BOUNCE");
    expect(unisender.webhookCalls().every((call) => call.status === 200)).toBe(true);
    expect(
      await metricSample(service, "notification_webhook_reports_total", { provider: "email-primary" }),
    ).toBeGreaterThanOrEqual(2);
  });

  it("refuses a forged or unknown webhook call, and counts it", async () => {
    const forged = await fetch(`${api}/api/v1/notifications/webhooks/email-primary`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ auth: "0".repeat(32), events_by_user: [] }),
    });
    expect(forged.status).toBe(401);
    const unknown = await fetch(`${api}/api/v1/notifications/webhooks/nobody`, {
      method: "POST",
      body: "{}",
    });
    expect(unknown.status).toBe(404);
    const forgedSms = await fetch(`${api}/api/v1/notifications/webhooks/sms-primary`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "data%5B0%5D=sms_status%0A000-1%0A103%0A1700000000&hash=abc",
    });
    expect(forgedSms.status).toBe(401);
    expect(
      await metricSample(service, "notification_feedback_refused_total", {
        endpoint: "webhook",
        reason: "bad_signature",
      }),
    ).toBe(2);
    expect(
      await metricSample(service, "notification_feedback_refused_total", {
        endpoint: "webhook",
        reason: "unknown_provider",
      }),
    ).toBe(1);
  });

  it("sends an SMS through SMS.ru, and marks it delivered on its signed callback answered 100", async () => {
    const requestId = await send([{ phoneTo: "+79165550123" }], ["sms"]);
    const sms = await smsRu.waitFor((each) => each.to === "79165550123", 20_000);
    expect(sms.text).toBe("Ваш код 4711");
    expect(await ended(requestId, "delivered"), service.output().slice(-3000)).toBe(true);
    // The service commits the status before its answer reaches the peer, which records the call once it has read it.
    const callOf = () =>
      smsRu.callbacks().find((each) => each.entries.some((entry) => entry.includes(sms.id)));
    await eventually(async () => callOf() !== undefined, 5_000);
    expect(callOf()).toMatchObject({ status: 200, answer: "100" });
  });

  it("fails over to SMSC while SMS.ru is down, and learns of the delivery by polling SMSC", async () => {
    smsRu.setFault({ mode: "5xx" });
    const requestId = await send([{ phoneTo: "+79165550124" }], ["sms"]);
    await smsc.waitFor((each) => each.to === "79165550124", 20_000);
    // Recorded once the send has answered, a moment after the peer took it.
    expect(
      await eventually(
        async () => (await messagesOf(orm, requestId))[0]?.provider_name === "sms-secondary",
        10_000,
      ),
    ).toBe(true);
    expect(await ended(requestId, "delivered"), service.output().slice(-3000)).toBe(true);
    // SMSC's id is kept, and what the status events carry, without the number (ФЗ-152).
    const [logged] = await orm.em
      .fork()
      .getConnection()
      .execute<{ provider_message_id: string | null }[]>(
        "SELECT provider_message_id FROM notification_message_log WHERE request_id = ?",
        [requestId],
      );
    expect(logged?.provider_message_id).toBeTruthy();
    expect(logged?.provider_message_id).not.toContain("9165550124");
    smsRu.setFault({ mode: "none" });
  });
});
