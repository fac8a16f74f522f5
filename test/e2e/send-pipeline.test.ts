import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { MikroORM } from "@mikro-orm/postgresql";
import type { Consumer, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import {
  collect,
  createActiveTemplate,
  DEAD_LETTER_TOPIC,
  EVENTS_TOPIC,
  messagesOf,
  pipelineEnv,
  publish,
  SEND_REQUEST_TOPIC,
  sinkRecords,
  structuredSendRequest,
  testClickHouse,
  testKafka,
  testOrm,
} from "../support/pipeline.ts";
import { eventually, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { localServices, REPO_ROOT } from "../support/services.ts";
import { specSendRequest } from "../support/spec-examples.ts";

const runFile = promisify(execFile);
const CONFLUENT_PYTHON = join(REPO_ROOT, ".local", "tools", "bin", "confluent-kafka-python");
const CONFLUENT_SCRIPT = join(REPO_ROOT, "test", "interop", "confluent_send_request.py");

// The send pipeline of the built service, fed through Kafka as other services feed it.
const run = randomUUID().slice(0, 8);
const template = `order_confirmation_${run}`;
const sinkFile = join(mkdtempSync(join(tmpdir(), "pipeline-")), "sink.jsonl");
const kafka = testKafka("send-pipeline-e2e");
const clickhouse = testClickHouse();
let service: ServiceProcess;
let producer: Producer;
let orm: MikroORM;
let events: Awaited<ReturnType<typeof collect>>;
let deadLetters: Awaited<ReturnType<typeof collect>>;
const consumers: Consumer[] = [];

/** The specification's example with ids of this run, so that runs never meet each other's claims. */
function specRequest(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...JSON.parse(specSendRequest),
    templateName: template,
    requestId: `req-${randomUUID()}`,
    ...changes,
  };
}

beforeAll(async () => {
  service = await startServiceProcess({
    env: {
      ...AUTH_ENV,
      ...pipelineEnv(sinkFile),
      SEND_REQUEST_MAX_BYTES: String(64 * 1024),
      // The HTML is read here as the template renders it; email-tracking.test.ts tracks it.
      TRACKING_SIGNING_KEY: "",
    },
  });
  producer = kafka.producer();
  await producer.connect();
  orm = testOrm();
  events = await collect(kafka, EVENTS_TOPIC);
  deadLetters = await collect(kafka, DEAD_LETTER_TOPIC);
  consumers.push(events.consumer, deadLetters.consumer);
  await createActiveTemplate(service.httpUrl, template, [
    {
      language_code: "ru",
      subject: "Заказ {{orderId}} оформлен",
      body: "{{userName}}, ваш заказ на {{totalAmount}} оформлен",
      body_html: '<h1>{{userName}}</h1>{{{itemsListHtml}}}<a href="{{orderDetailsUrl}}">Заказ</a>',
    },
    { language_code: "en", subject: "Order {{orderId}}", body: "Hello {{userName}}", body_html: "" },
  ]);
});

afterAll(async () => {
  await Promise.all(consumers.map((consumer) => consumer.disconnect()));
  await producer?.disconnect();
  await orm?.close(true);
  await clickhouse.close();
  await service?.stop();
});

const settled = (status: string) => ["sent", "failed", "suppressed", "expired", "cancelled"].includes(status);

async function untilSettled(requestId: string, count: number, timeoutMs = 30_000) {
  const done = await eventually(async () => {
    const messages = await messagesOf(orm, requestId);
    return messages.length === count && messages.every((message) => settled(message.status));
  }, timeoutMs);
  expect(done, `${requestId} settled\n${service.output().slice(-4000)}`).toBe(true);
  return messagesOf(orm, requestId);
}

describe("the send pipeline, from Kafka to the provider", () => {
  it("sends the specification's example event by email and FCM push, and records every status", async () => {
    const request = specRequest();
    const requestId = String(request.requestId);
    await publish(producer, [{ key: requestId, value: structuredSendRequest(request) }]);
    const messages = await untilSettled(requestId, 2);
    expect(messages.map((message) => [message.channel_type, message.status, message.provider_name])).toEqual([
      ["email", "sent", "sink"],
      ["push_fcm", "sent", "sink"],
    ]);
    // Sealed at rest: neither the address nor the token is in the row.
    for (const message of messages) {
      expect(message.recipient_address).not.toMatch(/override_user|fcm_token_xyz/);
      expect(message.recipient_address.split(".")).toHaveLength(4);
    }
    const sent = sinkRecords(sinkFile).filter((record) =>
      messages.some((message) => message.id === record.messageId),
    );
    const email = sent.find((record) => record.channel === "email");
    expect(email?.subject).toBe("Заказ ORD-2024-03-18-001 оформлен");
    expect(email?.bodyHtml).toContain("<li>Игра 'Супер Гонки' - 1000 RUB</li>");
    expect(email?.bodyHtml).toContain(
      'href="https:&#x2F;&#x2F;myplatform.com&#x2F;orders&#x2F;ORD-2024-03-18-001"',
    );
    expect(sent.find((record) => record.channel === "push_fcm")?.body).toBe(
      "Иван Петров, ваш заказ на 1500.00 RUB оформлен",
    );
    expect(sent).toHaveLength(2);

    // A status event per change, keyed by message id, as structured CloudEvents.
    const statusesOf = (id: string) =>
      events.records
        .filter((record) => record.key === id)
        .map((record) => JSON.parse(record.value) as { type: string; data: Record<string, unknown> });
    expect(
      await eventually(async () => messages.every((message) => statusesOf(message.id).length === 2), 15_000),
    ).toBe(true);
    for (const message of messages) {
      const published = statusesOf(message.id);
      expect(published.map((event) => event.data.status)).toEqual(["queued", "sent"]);
      expect(published[1]?.type).toBe("com.platform.notification.message.status.updated.v1");
      expect(published[1]?.data).toMatchObject({
        messageId: message.id,
        requestId,
        correlationId: "order-uuid-xyz",
        userId: "user-uuid-123",
        channel: message.channel_type,
        provider: "sink",
        templateName: template,
        templateVersion: 1,
        priority: "high",
      });
    }

    // And in ClickHouse, fed from those events.
    const counted = await eventually(async () => {
      const result = await clickhouse.query({
        query:
          "SELECT status, channel FROM notification_delivery_stats WHERE request_id = {id:String} ORDER BY channel, status",
        query_params: { id: requestId },
        format: "JSONEachRow",
      });
      const rows = await result.json<{ status: string; channel: string }>();
      return rows.filter((row) => row.status === "sent").length === 2;
    }, 20_000);
    expect(counted).toBe(true);
  });

  it("sends what Confluent's own Protobuf and Avro serializers produce in binary mode", async () => {
    for (const mode of ["protobuf", "avro"] as const) {
      const request = specRequest();
      const requestId = String(request.requestId);
      await runFile(CONFLUENT_PYTHON, [
        CONFLUENT_SCRIPT,
        "--mode",
        mode,
        "--registry",
        localServices().schemaRegistryUrl,
        "--topic",
        SEND_REQUEST_TOPIC,
        "--bootstrap",
        localServices().kafkaBrokers.join(","),
        "--json",
        JSON.stringify(request),
      ]);
      const messages = await untilSettled(requestId, 2);
      expect(
        messages.map((message) => [message.channel_type, message.status]),
        mode,
      ).toEqual([
        ["email", "sent"],
        ["push_fcm", "sent"],
      ]);
      const email = sinkRecords(sinkFile).find((record) => record.messageId === messages[0]?.id);
      expect(email?.subject, mode).toBe("Заказ ORD-2024-03-18-001 оформлен");
    }
  });

  it("sends the same request once, however often it arrives", async () => {
    const request = specRequest({ deliveryOptions: { channels: ["email"], priority: "normal" } });
    const requestId = String(request.requestId);
    const value = structuredSendRequest(request);
    await publish(producer, [
      { key: requestId, value },
      { key: requestId, value },
    ]);
    const [message] = await untilSettled(requestId, 1);
    await publish(producer, [{ key: requestId, value: structuredSendRequest(request) }]);
    // The third copy is read after the first two were sent: it must change nothing.
    expect(
      await eventually(async () => (await metric("notification_pipeline_deduplicated_total")) >= 2, 10_000),
    ).toBe(true);
    expect(sinkRecords(sinkFile).filter((record) => record.messageId === message?.id)).toHaveLength(1);
    expect(await messagesOf(orm, requestId)).toHaveLength(1);
  });

  it("dead-letters every kind of poison with its reason, and delivers the valid requests around it", async () => {
    const valid = () => specRequest({ deliveryOptions: { channels: ["email"] } });
    const before = valid();
    const after = valid();
    const unknownTemplate = valid();
    unknownTemplate.templateName = `no_such_template_${run}`;
    const poison: [string, Buffer | null, string][] = [
      ["not-json", Buffer.from("{not json"), "not_json"],
      ["empty", null, "not_a_cloud_event"],
      ["not-a-cloud-event", Buffer.from(JSON.stringify({ hello: "world" })), "not_a_cloud_event"],
      [
        "wrong-type",
        Buffer.from(
          JSON.stringify({
            specversion: "1.0",
            id: "x",
            source: "/t",
            type: "com.example.other.v1",
            data: {},
          }),
        ),
        "unexpected_type",
      ],
      [
        "invalid-payload",
        structuredSendRequest({ ...valid(), recipients: [{ emailTo: "not an address" }] }),
        "invalid_payload",
      ],
      ["unknown-template", structuredSendRequest(unknownTemplate), "unknown_template"],
      [
        "no-usable-recipient",
        structuredSendRequest({
          ...valid(),
          recipients: [{ emailTo: "a@example.com" }],
          deliveryOptions: { channels: ["sms"] },
        }),
        "no_usable_recipient",
      ],
      [
        "oversized",
        structuredSendRequest({
          ...valid(),
          correlationId: "x".repeat(100),
          payloadVariables: { big: "x".repeat(70 * 1024) },
        }),
        "oversized",
      ],
    ];
    // Binary mode, Protobuf framed with a schema id the registry never gave.
    const binaryHeaders = {
      ce_specversion: "1.0",
      ce_id: "evt-unknown-schema",
      ce_source: "/tests",
      ce_type: "com.platform.notification.send.request.v1",
      "content-type": "application/protobuf",
    };
    poison.push([
      "unknown-schema",
      Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 0, 0x0a, 0x01, 0x78]),
      "unknown_schema",
    ]);
    const keys = poison.map(([name]) => `${name}-${run}`);
    await publish(producer, [
      { key: String(before.requestId), value: structuredSendRequest(before) },
      ...poison.map(([name, value], index) => ({
        key: keys[index] as string,
        value,
        headers: { origin: "test", ...(name === "unknown-schema" ? binaryHeaders : {}) },
      })),
      { key: String(after.requestId), value: structuredSendRequest(after) },
    ]);
    await untilSettled(String(before.requestId), 1);
    await untilSettled(String(after.requestId), 1);
    const lettered = () => deadLetters.records.filter((record) => keys.includes(record.key));
    expect(await eventually(async () => lettered().length === poison.length, 20_000)).toBe(true);
    for (const [index, [name, value, reason]] of poison.entries()) {
      const letter = lettered().find((record) => record.key === keys[index]);
      expect(letter?.headers.dlq_reason, name).toBe(reason);
      expect(letter?.headers.dlq_original_topic).toBe("com.platform.notification.send.request.v1");
      expect(letter?.headers.origin, "the original headers are kept").toBe("test");
      expect(letter?.raw.equals(value ?? Buffer.alloc(0)), `${name}: the original bytes are kept`).toBe(true);
      expect(letter?.headers.dlq_detail).not.toContain("not an address");
    }
    expect(
      await metric('notification_pipeline_dead_lettered_total{reason="unknown_template"'),
    ).toBeGreaterThan(0);
  });

  it("records a send the user's preferences refuse as suppressed, with the switch they turned", async () => {
    const unsubscribed = randomUUID();
    const noEmail = randomUUID();
    await setPreferences(unsubscribed, { global_unsubscribe: true });
    await setPreferences(noEmail, { channels: [{ channel: "CHANNEL_EMAIL", enabled: false }] });
    const request = specRequest({
      recipients: [
        { userId: unsubscribed, emailTo: "gone@example.com" },
        { userId: noEmail, emailTo: "quiet@example.com" },
      ],
      deliveryOptions: { channels: ["email"] },
    });
    await publish(producer, [{ value: structuredSendRequest(request) }]);
    const messages = await untilSettled(String(request.requestId), 2);
    expect(messages.map((message) => [message.status, message.status_details]).sort()).toEqual([
      ["suppressed", "CHANNEL_DISABLED"],
      ["suppressed", "GLOBAL_UNSUBSCRIBE"],
    ]);
    const ids = messages.map((message) => message.id);
    expect(sinkRecords(sinkFile).filter((record) => ids.includes(record.messageId))).toEqual([]);
  });

  it("never sends a request whose time to live ran out before it arrived", async () => {
    const request = specRequest({
      deliveryOptions: {
        channels: ["email"],
        sendAtUtc: new Date(Date.now() - 10_000).toISOString(),
        ttlSeconds: 1,
      },
    });
    await publish(producer, [{ value: structuredSendRequest(request) }]);
    const [message] = await untilSettled(String(request.requestId), 1);
    expect([message?.status, message?.status_details]).toEqual(["expired", "TTL_EXPIRED"]);
    expect(sinkRecords(sinkFile).filter((record) => record.messageId === message?.id)).toEqual([]);
  });
});

describe("the send pipeline's metrics", () => {
  it("count every stage, the outbox backlog and each consumer group's lag", async () => {
    expect(
      await metric('notification_pipeline_consumed_total{topic="com.platform.notification.send.request.v1"'),
    ).toBeGreaterThan(0);
    expect(await metric("notification_pipeline_accepted_total")).toBeGreaterThan(0);
    // Every record reached its stage in a chunk; a chunk delivered again (a rebalance, a crash) counts again.
    const intake = 'topic="com.platform.notification.send.request.v1"';
    expect(await metric("notification_pipeline_chunk_records_count{", intake)).toBeGreaterThan(0);
    expect(await metric("notification_pipeline_chunk_records_sum{", intake)).toBeGreaterThanOrEqual(
      await metric(`notification_pipeline_consumed_total{${intake}`),
    );
    expect(
      await metric(
        "notification_pipeline_chunk_records_count{",
        'topic="notification-service.dispatch.normal"',
      ),
    ).toBeGreaterThan(0);
    expect(await metric('notification_dispatched_total{channel="email",outcome="sent"')).toBeGreaterThan(0);
    expect(await metric('notification_dispatched_total{channel="push_fcm",outcome="sent"')).toBeGreaterThan(
      0,
    );
    const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
    expect(text).toMatch(/^notification_outbox_backlog\{[^}]*\} \d+$/m);
    for (const group of ["intake", "stats", "dispatch.high", "dispatch.normal", "dispatch.low"]) {
      expect(text).toMatch(
        new RegExp(
          `^notification_consumer_lag\\{group="notification-service\\.${group.replace(".", "\\.")}"[^}]*\\} \\d+$`,
          "m",
        ),
      );
    }
  });
});

/** The sum of the lines that start with `prefix` and hold `label` (a histogram's labels follow the registry's default ones). */
async function metric(prefix: string, label = ""): Promise<number> {
  const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(prefix) && line.includes(label))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

async function setPreferences(userId: string, preferences: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${service.httpUrl}/api/v1/notifications/preferences/users/${userId}`, {
    method: "PUT",
    headers: { ...authHeaders(), "content-type": "application/json" },
    body: JSON.stringify(preferences),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}
