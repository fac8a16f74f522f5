import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReceivedEmail, type SmtpPeer, startSmtpPeer } from "../../scripts/provider-peers/index.ts";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import {
  type CollectedRecord,
  collect,
  EVENTS_TOPIC,
  messagesOf,
  pipelineEnv,
  testClickHouse,
  testKafka,
  testOrm,
} from "../support/pipeline.ts";
import { smtpSlotEnv } from "../support/provider-peers.ts";
import {
  eventually,
  metricSample,
  type ServiceProcess,
  startServiceProcess,
} from "../support/service-process.ts";

// Open and click tracking end to end: the built service sends through the pipeline to a real
// SMTP server, and the pixel and links of what arrived are fetched as a reader's client would.
const run = randomUUID().slice(0, 8);
const tracked = `tracked_${run}`;
const untracked = `untracked_${run}`;
const dir = mkdtempSync(join(tmpdir(), "email-tracking-"));
const kafka = testKafka("email-tracking-e2e");
const clickhouse = testClickHouse();
const SAFARI =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
const ORDER_URL = "https://shop.example/orders/A-17?from=mail&lang=ru";
const HTML = [
  "<html><body><p>{{userName}}, ваш заказ готов.</p>",
  '<p><a href="{{orderUrl}}">Заказ</a> · <a href="https://shop.example/help">Помощь</a>',
  ' · <a href="mailto:help@shop.example">Почта</a> · <a href="#top">Наверх</a></p></body></html>',
].join("");
let peer: SmtpPeer;
let service: ServiceProcess;
let orm: MikroORM;
let events: Awaited<ReturnType<typeof collect>>;

async function api(method: string, path: string, body?: object): Promise<Record<string, unknown>> {
  const response = await fetch(`${service.httpUrl}/api/v1/notifications${path}`, {
    method,
    headers: { ...authHeaders(), "content-type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function createTemplate(name: string, fields: object = {}): Promise<void> {
  const created = await api("POST", "/templates", {
    name,
    channel_type: "CHANNEL_EMAIL",
    default_language_code: "ru",
    ...fields,
  });
  await api("POST", `/templates/${created.id}/versions`, {
    locales: [
      { language_code: "ru", subject: "Заказ", body: "{{userName}}, ваш заказ готов.", body_html: HTML },
    ],
  });
  await api("POST", `/templates/${created.id}/versions/1:activate`, {});
}

/** Sends one email of `template` and answers its message id and the email as the SMTP server got it. */
async function sendOne(template: string): Promise<{ messageId: string; mail: ReceivedEmail }> {
  const requestId = `req-${randomUUID()}`;
  const to = `reader-${randomUUID().slice(0, 8)}@example.ru`;
  await api("POST", "/send/direct", {
    requestId,
    templateName: template,
    languageCode: "ru-RU",
    recipients: [{ emailTo: to }],
    payloadVariables: { userName: "Иван", orderUrl: ORDER_URL },
    deliveryOptions: { channels: ["email"] },
  });
  const mail = await peer.waitFor((each) => each.envelope.to.includes(to), 20_000);
  expect(await eventually(async () => (await messagesOf(orm, requestId))[0]?.status === "sent", 10_000)).toBe(
    true,
  );
  const [message] = await messagesOf(orm, requestId);
  return { messageId: String(message?.id), mail };
}

interface Counts {
  status: string;
  opens: number;
  clicks: number;
  machine_opens: number;
  machine_clicks: number;
  opened_at: Date | null;
  clicked_at: Date | null;
  sent_at: Date;
}

async function countsOf(messageId: string): Promise<Counts> {
  const [row] = await orm.em
    .fork()
    .getConnection()
    .execute<Counts[]>(
      `SELECT status, opens, clicks, machine_opens, machine_clicks, opened_at, clicked_at, sent_at
         FROM notification_message_log WHERE id = ?`,
      [messageId],
    );
  return row as Counts;
}

/** Waits until a reader could have clicked: a click within 2 s of the send is taken for a link scanner's. */
async function pastScannerWindow(messageId: string): Promise<void> {
  const wait = new Date((await countsOf(messageId)).sent_at).getTime() + 2_100 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

function hrefsOf(html: string): string[] {
  return [...html.matchAll(/<a [^>]*href="([^"]*)"/g)].map((match) => match[1] ?? "");
}

const get = (url: string, userAgent = SAFARI, method = "GET") =>
  fetch(url, { method, redirect: "manual", headers: { "user-agent": userAgent } });

const statusEventsOf = (messageId: string): string[] =>
  events.records
    .filter((record: CollectedRecord) => record.key === messageId)
    .map((record) => String((JSON.parse(record.value) as { data: { status: string } }).data.status));

beforeAll(async () => {
  peer = await startSmtpPeer({ user: "mailer", password: "pw" });
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
        user: "mailer",
        password: "pw",
        from: "noreply@notify.example.ru",
        timeoutMs: 5_000,
        dir,
      }),
      TRACKING_SIGNING_KEY: randomBytes(32).toString("base64"),
    },
  });
  orm = testOrm();
  events = await collect(kafka, EVENTS_TOPIC);
  await createTemplate(tracked);
  await createTemplate(untracked, { tracking_enabled: false });
});

afterAll(async () => {
  await events?.consumer.disconnect();
  await orm?.close(true);
  await service?.stop();
  await peer?.close();
  await clickhouse.close();
});

describe("email open and click tracking", () => {
  it("sends every http(s) link through a signed redirect and adds the pixel; mailto: and anchors stay", async () => {
    const { mail } = await sendOne(tracked);
    const html = String(mail.html);
    const hrefs = hrefsOf(html);
    const clickBase = `${service.httpUrl}/api/v1/notifications/t/c/`;
    expect(hrefs).toHaveLength(4);
    expect(hrefs[0]).toMatch(new RegExp(`^${clickBase}[\\w-]+\\.[\\w-]+$`));
    expect(hrefs[1]).toMatch(new RegExp(`^${clickBase}[\\w-]+\\.[\\w-]+$`));
    expect(hrefs.slice(2)).toEqual(["mailto:help@shop.example", "#top"]);
    expect(html).toMatch(
      new RegExp(
        `<img src="${service.httpUrl}/api/v1/notifications/t/o/[\\w-]+\\.[\\w-]+" width="1" height="1" alt=""></body></html>$`,
      ),
    );
    // The text part is the reader's as written: no tracking there.
    expect(mail.text).toBe("Иван, ваш заказ готов.");
  });

  it("records the reader's opens from the pixel: the first as opened (log, event, ClickHouse), every one counted", async () => {
    const { messageId, mail } = await sendOne(tracked);
    const pixel = /<img src="([^"]+)"/.exec(String(mail.html))?.[1] as string;
    const answer = await get(pixel);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("image/gif");
    expect(answer.headers.get("cache-control")).toContain("no-store");
    const gif = Buffer.from(await answer.arrayBuffer());
    // A GIF of 1 × 1 pixels (its width and height, little-endian, after the signature).
    expect([gif.subarray(0, 6).toString(), gif.readUInt16LE(6), gif.readUInt16LE(8)]).toEqual([
      "GIF89a",
      1,
      1,
    ]);
    expect(await countsOf(messageId)).toMatchObject({ status: "opened", opens: 1, machine_opens: 0 });
    const first = (await countsOf(messageId)).opened_at;
    expect((await get(pixel)).status).toBe(200);
    expect(await countsOf(messageId)).toMatchObject({ status: "opened", opens: 2, opened_at: first });
    expect(await eventually(async () => statusEventsOf(messageId).includes("opened"), 15_000)).toBe(true);
    // One event for the status; the second open only counts.
    expect(statusEventsOf(messageId).filter((status) => status === "opened")).toHaveLength(1);
    const message = await api("GET", `/messages/${messageId}`);
    expect(message).toMatchObject({ status: "MESSAGE_STATUS_OPENED", opens: 2, clicks: 0, machine_opens: 0 });
    expect(message.opened_time).toBe(new Date(first as Date).toISOString());
  });

  it("redirects a click to the link and counts every click, the first as clicked and kept", async () => {
    const { messageId, mail } = await sendOne(tracked);
    const [orderLink, helpLink] = hrefsOf(String(mail.html)) as [string, string];
    await pastScannerWindow(messageId);
    const answer = await get(orderLink);
    expect(answer.status).toBe(302);
    expect(answer.headers.get("location")).toBe(ORDER_URL);
    expect(answer.headers.get("cache-control")).toContain("no-store");
    expect(await countsOf(messageId)).toMatchObject({ status: "clicked", clicks: 1 });
    const first = (await countsOf(messageId)).clicked_at;
    const again = await get(helpLink);
    expect([again.status, again.headers.get("location")]).toEqual([302, "https://shop.example/help"]);
    expect(await countsOf(messageId)).toMatchObject({ status: "clicked", clicks: 2, clicked_at: first });
    expect(await eventually(async () => statusEventsOf(messageId).includes("clicked"), 15_000)).toBe(true);
    expect(statusEventsOf(messageId).filter((status) => status === "clicked")).toHaveLength(1);
    // ClickHouse is fed from those events: the click is there.
    const inClickHouse = await eventually(async () => {
      const result = await clickhouse.query({
        query:
          "SELECT count() AS n FROM notification_delivery_stats WHERE message_id = {id:String} AND status = 'clicked'",
        query_params: { id: messageId },
        format: "JSONEachRow",
      });
      const [row] = await result.json<{ n: string }>();
      return Number(row?.n) > 0;
    }, 20_000);
    expect(inClickHouse).toBe(true);
    expect(await api("GET", `/messages/${messageId}`)).toMatchObject({
      status: "MESSAGE_STATUS_CLICKED",
      clicks: 2,
    });
  });

  it("refuses a tampered link and one naming a host that is not in the message, with no redirect", async () => {
    const { messageId, mail } = await sendOne(tracked);
    const [orderLink] = hrefsOf(String(mail.html)) as [string];
    const token = orderLink.slice(orderLink.lastIndexOf("/") + 1);
    const [body, signature] = token.split(".") as [string, string];
    const refusedBefore = await metricSample(service, "notification_feedback_refused_total", {
      endpoint: "tracking",
      reason: "invalid_token",
    });
    // One character of the signature changed.
    const flipped = `${signature.slice(0, 4)}${signature[4] === "A" ? "B" : "A"}${signature.slice(5)}`;
    // The message's own token with another target: the signature no longer fits it.
    const [id, madeAt] = JSON.parse(Buffer.from(body, "base64url").toString()) as [string, number, string];
    const elsewhere = Buffer.from(JSON.stringify([id, madeAt, "https://evil.example/login"])).toString(
      "base64url",
    );
    const base = orderLink.slice(0, orderLink.lastIndexOf("/") + 1);
    for (const bad of [`${base}${body}.${flipped}`, `${base}${elsewhere}.${signature}`, `${base}garbage`]) {
      const answer = await get(bad);
      expect(answer.status, bad).toBe(404);
      expect(answer.headers.get("location")).toBeNull();
    }
    expect(
      await metricSample(service, "notification_feedback_refused_total", {
        endpoint: "tracking",
        reason: "invalid_token",
      }),
    ).toBe(refusedBefore + 3);
    expect(await countsOf(messageId)).toMatchObject({ status: "sent", clicks: 0, machine_clicks: 0 });
  });

  it("flags link scanners and privacy proxies as machines: served, counted apart, no status", async () => {
    const { messageId, mail } = await sendOne(tracked);
    const [orderLink] = hrefsOf(String(mail.html)) as [string];
    const pixel = /<img src="([^"]+)"/.exec(String(mail.html))?.[1] as string;
    // Told by what they say or do, not by when they come (a click right after the send is a
    // scanner's too, whatever it calls itself: machine-hits.test.ts).
    await pastScannerWindow(messageId);
    expect((await get(orderLink, "Barracuda Sentinel (EE)")).headers.get("location")).toBe(ORDER_URL);
    expect((await get(orderLink, SAFARI, "HEAD")).status).toBe(302);
    // Apple Mail Privacy Protection's prefetch says only "Mozilla/5.0".
    expect((await get(pixel, "Mozilla/5.0")).status).toBe(200);
    expect(await countsOf(messageId)).toMatchObject({
      status: "sent",
      opens: 0,
      clicks: 0,
      machine_opens: 1,
      machine_clicks: 2,
      opened_at: null,
      clicked_at: null,
    });
    expect(
      await metricSample(service, "notification_tracking_hits_total", { kind: "click", outcome: "machine" }),
    ).toBeGreaterThanOrEqual(2);
    expect(statusEventsOf(messageId)).not.toContain("clicked");
    expect(statusEventsOf(messageId)).not.toContain("opened");
  });

  it("sends a template with tracking off as it was rendered", async () => {
    const { mail } = await sendOne(untracked);
    expect(mail.html).toBe(
      HTML.replace("{{userName}}", "Иван").replace(
        "{{orderUrl}}",
        "https:&#x2F;&#x2F;shop.example&#x2F;orders&#x2F;A-17?from&#x3D;mail&amp;lang&#x3D;ru",
      ),
    );
    const template = await api("GET", `/templates?name_prefix=${untracked}`);
    expect(template).toMatchObject({ templates: [{ name: untracked, tracking_enabled: false }] });
  });
});
