// What the send pipeline's end-to-end tests share: templates made through the API,
// send requests published to Kafka, and where to look for what became of them.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createClient } from "@clickhouse/client";
import type { MikroORM } from "@mikro-orm/postgresql";
import { type Consumer, type IHeaders, Kafka, logLevel, type Producer } from "kafkajs";
import { createOrm } from "../../server/infrastructure.ts";
import { createLogger } from "../../server/logger.ts";
import { authHeaders } from "./credentials.ts";
import { localServices } from "./services.ts";

export const SEND_REQUEST_TOPIC = "com.platform.notification.send.request.v1";
export const EVENTS_TOPIC = "com.platform.notification.events.v1";
export const DEAD_LETTER_TOPIC = "com.platform.notification.send.request.v1.dlq";

export function testKafka(clientId: string): Kafka {
  return new Kafka({ clientId, brokers: localServices().kafkaBrokers, logLevel: logLevel.NOTHING });
}

export function testOrm(): MikroORM {
  return createOrm({ url: localServices().databaseUrl, poolMax: 2 }, createLogger("silent"));
}

export const testClickHouse = () =>
  createClient({
    url: localServices().clickhouseUrl,
    database: process.env.CLICKHOUSE_DATABASE ?? "default",
  });

/** A template with one active version, made through the REST API as an admin. */
export async function createActiveTemplate(
  httpUrl: string,
  name: string,
  locales: { language_code: string; subject: string; body: string; body_html: string }[],
  channel = "CHANNEL_EMAIL",
): Promise<string> {
  const call = async (method: string, path: string, body: object) => {
    const response = await fetch(`${httpUrl}/api/v1/notifications${path}`, {
      method,
      headers: { ...authHeaders(), "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const created = await call("POST", "/templates", {
    name,
    channel_type: channel,
    default_language_code: locales[0]?.language_code ?? "ru",
  });
  const id = String(created.id);
  await call("POST", `/templates/${id}/versions`, { locales });
  await call("POST", `/templates/${id}/versions/1:activate`, {});
  return id;
}

/** A structured CloudEvent carrying `data`, as a producer following the specification sends it. */
export function structuredSendRequest(data: object, id = randomUUID()): Buffer {
  return Buffer.from(
    JSON.stringify({
      specversion: "1.0",
      id,
      source: "/tests/pipeline",
      type: SEND_REQUEST_TOPIC,
      time: new Date().toISOString(),
      datacontenttype: "application/json",
      data,
    }),
  );
}

export async function publish(
  producer: Producer,
  records: { key?: string; value: Buffer | null; headers?: IHeaders }[],
): Promise<void> {
  await producer.send({ topic: SEND_REQUEST_TOPIC, acks: -1, messages: records });
}

export interface CollectedRecord {
  key: string;
  /** The value as UTF-8 text, and as its bytes (binary events). */
  value: string;
  raw: Buffer;
  headers: Record<string, string>;
}

/** The records a topic receives from now on, kept in memory. */
export async function collect(
  kafka: Kafka,
  topic: string,
): Promise<{
  records: CollectedRecord[];
  consumer: Consumer;
}> {
  const records: CollectedRecord[] = [];
  const consumer = kafka.consumer({ groupId: `test-collect-${randomUUID()}`, maxWaitTimeInMs: 50 });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      records.push({
        key: message.key?.toString() ?? "",
        value: message.value?.toString() ?? "",
        raw: message.value ?? Buffer.alloc(0),
        headers: Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
        ),
      });
    },
  });
  await joined;
  return { records, consumer };
}

export interface LoggedMessage {
  id: string;
  request_id: string;
  channel_type: string;
  status: string;
  status_details: string | null;
  provider_name: string | null;
  recipient_address: string;
  attempts: number;
}

export async function messagesOf(orm: MikroORM, requestId: string): Promise<LoggedMessage[]> {
  return orm.em
    .fork()
    .getConnection()
    .execute<LoggedMessage[]>(
      `SELECT id, request_id, channel_type, status, status_details, provider_name, recipient_address, attempts
         FROM notification_message_log WHERE request_id = ? ORDER BY channel_type, id`,
      [requestId],
    );
}

/** What the sink provider wrote to its file, one record per message it "sent". */
export function sinkRecords(
  file: string,
): { messageId: string; channel: string; subject: string; body: string; bodyHtml: string; to: string }[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  // A process killed mid-write leaves its last line cut short: that record was not kept.
  return text.split("\n").flatMap((line) => {
    try {
      return line ? [JSON.parse(line)] : [];
    } catch {
      return [];
    }
  });
}

/** The environment a pipeline test's service runs with: quick polls, a sink writing to `sinkFile`. */
export function pipelineEnv(sinkFile: string): Record<string, string> {
  return {
    SINK_FILE: sinkFile,
    OUTBOX_IDLE_MS: "20",
    SCHEDULE_POLL_MS: "50",
    STATS_FLUSH_INTERVAL_MS: "100",
  };
}
