import type { JsonObject } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { structuredEventDecoder, TOPICS } from "../../../consumers/index.ts";
import { SendRequestSchema } from "../../../gen/platform/notification/events/v1/send_request_pb.ts";
import { sendRequestOf } from "../../../mappers/index.ts";
import { specSendRequest } from "../../support/spec-examples.ts";

const decode = structuredEventDecoder({
  type: TOPICS.sendRequests,
  data: SendRequestSchema,
  maxBytes: 64 * 1024,
});
const envelope = (overrides: JsonObject = {}, data: unknown = JSON.parse(specSendRequest)) => ({
  specversion: "1.0",
  id: "evt-1",
  source: "/orders-service",
  type: TOPICS.sendRequests,
  datacontenttype: "application/json",
  time: "2024-03-18T10:15:30Z",
  data,
  ...overrides,
});
const bytes = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

describe("structured CloudEvents of send requests", () => {
  it("reads the spec's example into the domain's request", () => {
    const decoded = decode(bytes(envelope()));
    if (decoded.kind !== "event")
      throw new Error(`expected an event, got ${decoded.reason}: ${decoded.detail}`);
    expect(decoded).toMatchObject({
      id: "evt-1",
      source: "/orders-service",
      time: new Date("2024-03-18T10:15:30Z"),
    });
    const receivedAt = new Date("2024-03-18T10:15:31Z");
    expect(sendRequestOf(decoded.data, receivedAt)).toEqual({
      requestId: "req-uuid-unique",
      recipients: [
        {
          userId: "user-uuid-123",
          emailTo: "override_user@example.com",
          phoneTo: "+79991234567",
          deviceTokens: [
            { token: "fcm_token_xyz", platform: "android_fcm" },
            { token: "apns_token_abc", platform: "ios_apns" },
          ],
        },
      ],
      templateName: "order_confirmation",
      languageCode: "ru-RU",
      variables: JSON.parse(specSendRequest).payloadVariables,
      channels: ["email", "push_fcm"],
      priority: "high",
      ttlSeconds: 3600,
      correlationId: "order-uuid-xyz",
      receivedAt,
    });
  });

  it("gives a future sendAtUtc and a default priority to the domain", () => {
    const data = JSON.parse(specSendRequest);
    data.deliveryOptions = { channels: ["sms"], sendAtUtc: "2030-01-01T09:00:00Z" };
    const decoded = decode(bytes(envelope({}, data)));
    if (decoded.kind !== "event") throw new Error(decoded.detail);
    expect(sendRequestOf(decoded.data, new Date())).toMatchObject({
      channels: ["sms"],
      priority: "normal",
      sendAt: new Date("2030-01-01T09:00:00Z"),
    });
  });

  it("names the reason of every kind of poison", () => {
    const spec = JSON.parse(specSendRequest);
    const cases: [string, Uint8Array, string, RegExp][] = [
      ["oversized", bytes({ ...envelope(), padding: "x".repeat(70_000) }), "oversized", /limit is 65536/],
      ["not JSON", bytes("{not json"), "not_json", /not UTF-8 JSON/],
      ["not UTF-8", Uint8Array.of(0x7b, 0xff, 0x7d), "not_json", /not UTF-8 JSON/],
      ["an array", bytes([envelope()]), "not_a_cloud_event", /JSON object/],
      ["no id", bytes(envelope({ id: "" })), "not_a_cloud_event", /"id"/],
      ["a bad attribute name", bytes({ ...envelope(), "Bad-Name": 1 }), "not_a_cloud_event", /Bad-Name/],
      ["CloudEvents 0.3", bytes(envelope({ specversion: "0.3" })), "unsupported_specversion", /0\.3/],
      [
        "another type",
        bytes(envelope({ type: "com.example.other" })),
        "unexpected_type",
        /com\.example\.other/,
      ],
      [
        "XML data",
        bytes(envelope({ datacontenttype: "application/xml" })),
        "invalid_payload",
        /application\/xml/,
      ],
      ["a bad time", bytes(envelope({ time: "yesterday" })), "not_a_cloud_event", /RFC 3339/],
      ["an unknown field", bytes(envelope({}, { ...spec, urgent: true })), "invalid_payload", /urgent/],
      [
        "an unknown channel",
        bytes(
          envelope({}, { ...spec, deliveryOptions: { ...spec.deliveryOptions, channels: ["email", "fax"] } }),
        ),
        "invalid_payload",
        /delivery_options\.channels\[1\]/,
      ],
      ["no recipients", bytes(envelope({}, { ...spec, recipients: [] })), "invalid_payload", /recipients/],
      [
        "NUL in a variable",
        bytes(envelope({}, { ...spec, payloadVariables: { name: "a\u0000b" } })),
        "invalid_payload",
        /NUL/,
      ],
      ["no data", bytes(envelope({ data: null })), "invalid_payload", /cannot decode/],
    ];
    for (const [name, value, reason, detail] of cases) {
      const decoded = decode(value);
      expect({ name, kind: decoded.kind, reason: decoded.kind === "poison" ? decoded.reason : "" }).toEqual({
        name,
        kind: "poison",
        reason,
      });
      if (decoded.kind === "poison") expect(decoded.detail, name).toMatch(detail);
    }
  });
});
