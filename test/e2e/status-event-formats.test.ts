import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  SchemaRegistryClient,
  statusEventReader,
  unframeAvro,
  unframeProtobuf,
} from "../../consumers/index.ts";
import { AUTH_ENV, authHeaders } from "../support/credentials.ts";
import {
  collect,
  createActiveTemplate,
  EVENTS_TOPIC,
  pipelineEnv,
  testClickHouse,
  testKafka,
} from "../support/pipeline.ts";
import { eventually, startServiceProcess } from "../support/service-process.ts";
import { localServices } from "../support/services.ts";
import { specSendRequest } from "../support/spec-examples.ts";

// Status events in binary mode by configuration: framed with the id of our registered schema,
// read back with the registry, and counted in ClickHouse like structured ones.
const kafka = testKafka("status-event-formats-e2e");
const clickhouse = testClickHouse();
const registry = new SchemaRegistryClient({ url: localServices().schemaRegistryUrl });
const readEvent = statusEventReader(registry);

afterAll(async () => {
  await clickhouse.close();
});

describe.each(["protobuf", "avro"] as const)("status events as %s", (format) => {
  it("are binary CloudEvents framed with our schema's id, and still feed the statistics", async () => {
    const sinkFile = join(mkdtempSync(join(tmpdir(), "formats-")), "sink.jsonl");
    const service = await startServiceProcess({
      env: { ...AUTH_ENV, ...pipelineEnv(sinkFile), EVENTS_FORMAT: format },
    });
    const events = await collect(kafka, EVENTS_TOPIC);
    const registered = () => service.logs.some((line) => line.message === "event schemas registered");
    expect(await eventually(async () => registered(), 20_000), service.output()).toBe(true);
    try {
      const template = `formats_${format}_${randomUUID().slice(0, 8)}`;
      await createActiveTemplate(service.httpUrl, template, [
        { language_code: "ru", subject: "{{orderId}}", body: "{{userName}}", body_html: "" },
      ]);
      const request = {
        ...JSON.parse(specSendRequest),
        requestId: `req-${randomUUID()}`,
        templateName: template,
        deliveryOptions: { channels: ["email"] },
      };
      const response = await fetch(`${service.httpUrl}/api/v1/notifications/send/direct`, {
        method: "POST",
        headers: { ...authHeaders(), "content-type": "application/json" },
        body: JSON.stringify(request),
      });
      const accepted = (await response.json()) as { messages: { message_id: string }[] };
      expect(response.status, `${JSON.stringify(accepted)}\n${service.output().slice(-3000)}`).toBe(200);
      const messageId = accepted.messages[0]?.message_id ?? "";
      const ofMessage = () => events.records.filter((record) => record.key === messageId);
      expect(
        await eventually(async () => ofMessage().length === 2, 20_000),
        service.output().slice(-3000),
      ).toBe(true);
      for (const record of ofMessage()) {
        expect(record.headers).toMatchObject({
          ce_specversion: "1.0",
          ce_type: "com.platform.notification.message.status.updated.v1",
          ce_subject: messageId,
          "content-type": `application/${format}`,
        });
      }
      const sent = ofMessage()[1] as (typeof events.records)[number];
      const value = sent.raw;
      const unframed = format === "protobuf" ? unframeProtobuf(value) : unframeAvro(value);
      if (!unframed.framed) throw new Error(unframed.detail);
      const schema = await registry.schemaById(unframed.frame.schemaId);
      expect(schema).toMatchObject({
        kind: "found",
        schema: { schemaType: format === "protobuf" ? "PROTOBUF" : "AVRO" },
      });
      expect(await readEvent({ value, headers: sent.headers })).toMatchObject({
        messageId,
        status: "sent",
        requestId: request.requestId,
      });
      const counted = await eventually(async () => {
        const result = await clickhouse.query({
          query:
            "SELECT count() AS n FROM notification_delivery_stats WHERE message_id = {id:UUID} AND status = 'sent'",
          query_params: { id: messageId },
          format: "JSONEachRow",
        });
        return Number((await result.json<{ n: number | string }>())[0]?.n) >= 1;
      }, 20_000);
      expect(counted).toBe(true);
    } finally {
      await events.consumer.disconnect();
      await service.stop();
    }
  });
});
