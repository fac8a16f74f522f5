import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
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

// Email through real SMTP: the built service sends to two local SMTP servers, a primary and a
// secondary, over STARTTLS with a login, and fails over, waits and recovers as they misbehave.
const run = randomUUID().slice(0, 8);
const reader = randomUUID();
const template = `email_${run}`;
const dir = mkdtempSync(join(tmpdir(), "email-delivery-"));
let primary: SmtpPeer;
let secondary: SmtpPeer;
let service: ServiceProcess;
let orm: MikroORM;

function providerEnv(slot: string, peer: SmtpPeer): Record<string, string> {
  return {
    ...smtpSlotEnv({
      slot,
      host: peer.host,
      port: peer.port,
      ca: peer.ca,
      user: "mailer",
      password: `pw-${slot}`,
      from: "noreply@notify.example.ru",
      timeoutMs: 1500,
      dir,
    }),
    [`EMAIL_PROVIDER_${slot.toUpperCase()}_FROM_NAME`]: "Платформа",
  };
}

async function send(recipients: object[], deliveryOptions: object = {}): Promise<string> {
  const requestId = `req-${randomUUID()}`;
  const response = await fetch(`${service.httpUrl}/api/v1/notifications/send/bulk`, {
    method: "POST",
    headers: { ...authHeaders("order-service", ["service"]), "content-type": "application/json" },
    body: JSON.stringify({
      requestId,
      recipients,
      templateName: template,
      languageCode: "ru-RU",
      payloadVariables: { orderId: "A-17", userName: "Иван" },
      deliveryOptions: { channels: ["email"], ...deliveryOptions },
    }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return requestId;
}

const recipients = (count: number, tag: string) =>
  Array.from({ length: count }, (_, index) => ({
    userId: `u-${tag}-${index}`,
    emailTo: `${tag}-${index}@example.ru`,
  }));

/** Whether all `count` messages of the request ended `status`. */
async function allEnded(requestId: string, count: number, status = "sent"): Promise<boolean> {
  const messages = await messagesOf(orm, requestId);
  return messages.length === count && messages.every((message) => message.status === status);
}

/** Our message ids as each peer received them: our Message-ID carries the message id. */
function receivedIds(peer: SmtpPeer): string[] {
  return peer.messages().flatMap((message) => message.headers["x-notification-id"] ?? []);
}

beforeAll(async () => {
  [primary, secondary] = await Promise.all([
    startSmtpPeer({ user: "mailer", password: "pw-primary" }),
    startSmtpPeer({ user: "mailer", password: "pw-secondary" }),
  ]);
  service = await startServiceProcess({
    env: {
      ...AUTH_ENV,
      ...pipelineEnv(join(dir, "sink.jsonl")),
      EMAIL_PROVIDERS: "primary,secondary",
      ...providerEnv("primary", primary),
      ...providerEnv("secondary", secondary),
      PROVIDER_BREAKER_FAILURES: "3",
      PROVIDER_BREAKER_OPEN_MS: "2000",
      DISPATCH_RETRY_INITIAL_MS: "300",
      DISPATCH_RETRY_MAX_MS: "1000",
      // The HTML is read here as the template renders it; email-tracking.test.ts tracks it.
      TRACKING_SIGNING_KEY: "",
    },
  });
  orm = testOrm();
  await createActiveTemplate(service.httpUrl, template, [
    {
      language_code: "ru",
      subject: "Заказ {{orderId}} оформлен",
      body: "{{userName}}, ваш заказ {{orderId}} оформлен.",
      body_html: "<p>{{userName}}, ваш заказ <b>{{orderId}}</b> оформлен.</p>",
    },
  ]);
});

afterAll(async () => {
  await orm?.close(true);
  await service?.stop();
  await Promise.all([primary?.close(), secondary?.close()]);
});

beforeEach(() => {
  primary.setFault({ mode: "none" });
  secondary.setFault({ mode: "none" });
});

describe("email over SMTP", () => {
  it("sends through the primary over STARTTLS, multipart, with a one-click unsubscribe that turns the type off", async () => {
    const requestId = await send([{ userId: reader, emailTo: `reader-${run}@example.ru` }]);
    const mail = await primary.waitFor(
      (each) => each.envelope.to.includes(`reader-${run}@example.ru`),
      20_000,
    );
    const [logged] = await messagesOf(orm, requestId);
    expect(logged).toMatchObject({ status: "sent" });
    expect(mail).toMatchObject({
      secure: true,
      user: "mailer",
      envelope: { from: "noreply@notify.example.ru" },
      from: [{ name: "Платформа", address: "noreply@notify.example.ru" }],
      subject: "Заказ A-17 оформлен",
      text: "Иван, ваш заказ A-17 оформлен.",
      html: "<p>Иван, ваш заказ <b>A-17</b> оформлен.</p>",
    });
    expect(mail.messageId).toContain(logged?.id);
    expect(mail.headers["x-notification-id"]).toEqual([logged?.id]);
    expect(mail.headers["list-unsubscribe-post"]).toEqual(["List-Unsubscribe=One-Click"]);
    const link = /^<(https?:\/\/[^>]+)>$/.exec(mail.headers["list-unsubscribe"]?.[0] ?? "")?.[1] as string;
    expect(link).toMatch(new RegExp(`^${service.httpUrl}/api/v1/notifications/unsubscribe/`));

    // A GET (a link scanner, a person's click) only shows the button.
    const page = await fetch(link);
    expect([page.status, await page.text()]).toEqual([200, expect.stringContaining('<form method="post">')]);
    const preferencesOf = async () =>
      (await (
        await fetch(`${service.httpUrl}/api/v1/notifications/preferences/users/${reader}`, {
          headers: authHeaders(),
        })
      ).json()) as { notification_types?: Record<string, { enabled?: boolean }> };
    expect((await preferencesOf()).notification_types?.[template]?.enabled).not.toBe(false);

    // The mail client's one click, as RFC 8058 has it: a POST with no credentials.
    const clicked = await fetch(link, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(clicked.status, service.output().slice(-3000)).toBe(200);
    expect((await preferencesOf()).notification_types?.[template]).toMatchObject({ enabled: false });
    expect(await metricSample(service, "notification_unsubscribes_total", {})).toBe(1);

    const next = await send([{ userId: reader, emailTo: `reader-${run}@example.ru` }]);
    expect(
      await eventually(async () => (await messagesOf(orm, next))[0]?.status === "suppressed", 10_000),
    ).toBe(true);
    expect((await messagesOf(orm, next))[0]?.status_details).toBe("TYPE_DISABLED");

    const forged = await fetch(link.replace(/\.[\w-]+$/, ".AAAAAAAAAAAAAAAAAAAAAA"), { method: "POST" });
    expect(forged.status).toBe(404);
    expect(
      await metricSample(service, "notification_feedback_refused_total", {
        endpoint: "unsubscribe",
        reason: "invalid_link",
      }),
    ).toBe(1);
  });

  it("fails over to the secondary while the primary refuses for now, opens its breaker, and closes it once it recovers", async () => {
    primary.setFault({ mode: "tempfail-4xx" });
    const requestId = await send(recipients(100, `fo-${run}`));
    expect(await eventually(() => allEnded(requestId, 100), 30_000), service.output().slice(-3000)).toBe(
      true,
    );
    const ids = (await messagesOf(orm, requestId)).map((m) => m.id);
    const onSecondary = receivedIds(secondary).filter((id) => ids.includes(id));
    expect(new Set(onSecondary).size).toBe(100);
    expect(receivedIds(primary).filter((id) => ids.includes(id))).toEqual([]);
    expect(
      await metricSample(service, "notification_provider_breaker_state", { provider: "email-primary" }),
    ).toBe(2);

    // Admins see it from the api, as the worker posted it, and in /readyz's details; never a credential.
    const listed = (await (
      await fetch(`${service.httpUrl}/api/v1/notifications/providers`, { headers: authHeaders() })
    ).json()) as { providers: { name: string; position: number; breaker: string; kind: string }[] };
    expect(
      listed.providers.map(({ name, position, breaker, kind }) => ({ name, position, breaker, kind })),
    ).toEqual(
      expect.arrayContaining([
        { name: "email-primary", position: 1, breaker: "BREAKER_STATE_OPEN", kind: "smtp" },
        { name: "email-secondary", position: 2, breaker: "BREAKER_STATE_CLOSED", kind: "smtp" },
      ]),
    );
    expect(JSON.stringify(listed)).not.toContain("pw-primary");
    const ready = (await (await fetch(`${service.httpUrl}/readyz`, { headers: authHeaders() })).json()) as {
      providers?: Record<string, { breaker: string }>;
    };
    expect(ready.providers?.["email-primary"]).toEqual({ breaker: "open" });

    primary.setFault({ mode: "none" });
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const after = await send(recipients(20, `back-${run}`));
    expect(await eventually(() => allEnded(after, 20), 30_000)).toBe(true);
    const afterIds = (await messagesOf(orm, after)).map((m) => m.id);
    expect(receivedIds(primary).filter((id) => afterIds.includes(id)).length).toBeGreaterThan(0);
    expect(
      await metricSample(service, "notification_provider_breaker_state", { provider: "email-primary" }),
    ).toBe(0);
  });

  it("fails over past a primary that hangs, within its timeout", async () => {
    primary.setFault({ mode: "hang" });
    const requestId = await send(recipients(10, `hang-${run}`));
    expect(await eventually(() => allEnded(requestId, 10), 30_000)).toBe(true);
    const ids = (await messagesOf(orm, requestId)).map((m) => m.id);
    expect(new Set(receivedIds(secondary).filter((id) => ids.includes(id))).size).toBe(10);
  });

  it("keeps messages while every provider is down and sends them when one returns; one past its TTL ends expired", async () => {
    primary.setFault({ mode: "tempfail-4xx" });
    secondary.setFault({ mode: "tempfail-4xx" });
    const waiting = await send(recipients(5, `wait-${run}`), { ttlSeconds: 120 });
    const shortLived = await send(recipients(1, `ttl-${run}`), { ttlSeconds: 3 });
    expect(
      await eventually(async () => {
        const messages = await messagesOf(orm, waiting);
        return messages.length === 5 && messages.every((m) => m.attempts > 0);
      }, 10_000),
    ).toBe(true);
    expect((await messagesOf(orm, waiting)).map((m) => m.status)).toEqual(Array(5).fill("queued"));
    expect(
      await eventually(async () => (await messagesOf(orm, shortLived))[0]?.status === "expired", 15_000),
    ).toBe(true);

    secondary.setFault({ mode: "none" });
    expect(await eventually(() => allEnded(waiting, 5), 30_000), service.output().slice(-3000)).toBe(true);
    const ids = (await messagesOf(orm, waiting)).map((m) => m.id);
    const received = receivedIds(secondary).filter((id) => ids.includes(id));
    expect(new Set(received).size).toBe(5);
    expect(received.length).toBe(5);
  });

  it("suppresses a mailbox the server says does not exist: that send fails, the next is suppressed, an admin lifts it", async () => {
    const address = `gone-${run}@example.ru`;
    // On both: the primary's breaker may still be open from the tests before.
    primary.forgetMailboxes([address]);
    secondary.forgetMailboxes([address]);
    const first = await send([{ emailTo: address }]);
    expect(await eventually(() => allEnded(first, 1, "failed"), 20_000), service.output().slice(-3000)).toBe(
      true,
    );
    expect((await messagesOf(orm, first))[0]?.status_details).toMatch(/^DESTINATION_GONE: 550 5\.1\.1/);

    const list = async (roles: ("admin" | "support")[]) =>
      (await (
        await fetch(
          `${service.httpUrl}/api/v1/notifications/suppressions?recipient=${encodeURIComponent(address)}`,
          {
            headers: authHeaders("ops", roles),
          },
        )
      ).json()) as { suppressions?: { id: string; recipient: string; reason: string; source: string }[] };
    const [entry, ...more] = (await list(["admin"])).suppressions ?? [];
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      recipient: address,
      reason: "SUPPRESSION_REASON_HARD_BOUNCE",
      source: expect.stringMatching(/^email-(primary|secondary)$/),
    });
    expect((await list(["support"])).suppressions?.[0]?.recipient).toBe(`g…@example.ru`);

    const second = await send([{ emailTo: address }]);
    expect(await eventually(() => allEnded(second, 1, "suppressed"), 10_000)).toBe(true);
    expect((await messagesOf(orm, second))[0]?.status_details).toBe("SUPPRESSED_HARD_BOUNCE");

    const lift = (roles: ("admin" | "support")[]) =>
      fetch(`${service.httpUrl}/api/v1/notifications/suppressions/${entry?.id}`, {
        method: "DELETE",
        headers: authHeaders("ops", roles),
      });
    expect((await lift(["support"])).status).toBe(403);
    expect((await lift(["admin"])).status).toBe(200);
    expect((await list(["admin"])).suppressions ?? []).toEqual([]);
    expect((await lift(["admin"])).status).toBe(404);
  });
});
