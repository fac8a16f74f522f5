import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprint } from "../../core/personal-data.ts";
import { type SmtpPeer, startSmtpPeer } from "../../scripts/provider-peers/index.ts";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import { createActiveTemplate, messagesOf, pipelineEnv, testOrm } from "../support/pipeline.ts";
import { smtpSlotEnv } from "../support/provider-peers.ts";
import {
  eventually,
  metricSample,
  type ServiceProcess,
  startServiceProcess,
} from "../support/service-process.ts";

// The SMTP bounce path through the built service: the relay (the SMTP peer) takes a message with
// a 250 and mails its bounce to the sender's mailbox later; the worker reads that mailbox over
// POP3, fails the message with the report's status, suppresses the address and deletes the report.
const run = randomUUID().slice(0, 8);
const template = `bounces_${run}`;
const dir = mkdtempSync(join(tmpdir(), "email-bounces-"));
const login = { user: "mailer", password: `pw-${run}` };
let peer: SmtpPeer;
let service: ServiceProcess;
let orm: MikroORM;

async function send(emailTo: string): Promise<string> {
  const requestId = `req-${randomUUID()}`;
  const response = await fetch(`${service.httpUrl}/api/v1/notifications/send/bulk`, {
    method: "POST",
    headers: { ...authHeaders("order-service", ["service"]), "content-type": "application/json" },
    body: JSON.stringify({
      requestId,
      recipients: [{ emailTo }],
      templateName: template,
      languageCode: "ru",
      payloadVariables: { orderId: "A-17" },
      deliveryOptions: { channels: ["email"] },
    }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return requestId;
}

async function ended(requestId: string, status: string, timeoutMs = 20_000): Promise<boolean> {
  return eventually(async () => (await messagesOf(orm, requestId))[0]?.status === status, timeoutMs);
}

beforeAll(async () => {
  peer = await startSmtpPeer({ ...login, bounceDelayMs: 1000 });
  const caFile = join(dir, "peer-ca.pem");
  writeFileSync(caFile, peer.ca);
  const { bounces } = peer;
  service = await startServiceProcess({
    env: {
      ...AUTH_ENV,
      ...pipelineEnv(join(dir, "sink.jsonl")),
      EMAIL_PROVIDERS: "primary",
      ...smtpSlotEnv({
        slot: "primary",
        host: peer.host,
        port: peer.port,
        ca: peer.ca,
        ...login,
        from: "noreply@notify.example.ru",
        timeoutMs: 3_000,
        dir,
      }),
      EMAIL_PROVIDER_PRIMARY_BOUNCE_MAILBOX: `pop3s://${login.user}:${login.password}@${bounces.host}:${bounces.port}`,
      EMAIL_PROVIDER_PRIMARY_BOUNCE_TLS_CA_FILE: caFile,
      PROVIDER_STATUS_POLL_MS: "500",
    },
  });
  orm = testOrm();
  await createActiveTemplate(service.httpUrl, template, [
    {
      language_code: "ru",
      subject: "Заказ {{orderId}}",
      body: "Ваш заказ {{orderId}} оформлен.",
      body_html: "",
    },
  ]);
});

afterAll(async () => {
  await orm?.close(true);
  await service?.stop();
  await peer?.close();
});

describe("email bounces read from the sender's mailbox", () => {
  it("fails a message the relay took and bounced later with the report's status, suppresses the address, and deletes the report", async () => {
    const gone = `gone-${run}@example.ru`;
    const fine = `fine-${run}@example.ru`;
    peer.bounceAfterAccepting([gone]);
    // Mail that is no report of ours, in the mailbox before: read, deleted and counted.
    peer.bounces.deliver("From: anna@example.org\r\nSubject: Out of office\r\n\r\nI am away.\r\n");
    const bounced = await send(gone);
    const delivered = await send(fine);
    // Taken with a 250 first, as a relay takes it; the report comes afterwards.
    expect(await ended(bounced, "sent"), service.output().slice(-3000)).toBe(true);
    const dsn = await peer.bounces.waitFor((item) => item.raw.includes(gone), 10_000);

    expect(await ended(bounced, "failed"), service.output().slice(-3000)).toBe(true);
    const [failed] = await messagesOf(orm, bounced);
    expect(failed).toMatchObject({ provider_name: "email-primary" });
    expect(failed?.status_details).toBe(
      `PROVIDER_BOUNCED: 5.1.1 550 5.1.1 <${fingerprint(gone)}>: Recipient address rejected: User unknown in virtual mailbox table`,
    );
    expect(dsn.raw).toContain(failed?.id);

    const [kept] = await messagesOf(orm, delivered);
    expect(kept?.status).toBe("sent");
    expect(await eventually(async () => peer.bounces.held().length === 0, 10_000)).toBe(true);
    expect(peer.bounces.removed().map((item) => item.uid)).toContain(dsn.uid);
    expect(
      await metricSample(service, "notification_bounce_mail_total", {
        provider: "email-primary",
        outcome: "report",
      }),
    ).toBe(1);
    expect(
      await metricSample(service, "notification_bounce_mail_total", {
        provider: "email-primary",
        outcome: "not_a_dsn",
      }),
    ).toBe(1);

    const suppressions = (await (
      await fetch(
        `${service.httpUrl}/api/v1/notifications/suppressions?recipient=${encodeURIComponent(gone)}`,
        {
          headers: authHeaders("ops", ["admin"]),
        },
      )
    ).json()) as { suppressions?: { recipient: string; reason: string; source: string }[] };
    expect(suppressions.suppressions).toEqual([
      expect.objectContaining({
        recipient: gone,
        reason: "SUPPRESSION_REASON_HARD_BOUNCE",
        source: "email-primary",
      }),
    ]);

    const again = await send(gone);
    expect(await ended(again, "suppressed", 10_000)).toBe(true);
    expect((await messagesOf(orm, again))[0]?.status_details).toBe("SUPPRESSED_HARD_BOUNCE");
    expect(peer.messages().filter((message) => message.envelope.to.includes(gone))).toHaveLength(1);
    // The worker's log says what it read, never whose report it was.
    expect(service.output()).toContain("provider statuses polled");
    expect(service.output()).not.toContain(gone);
  });
});
