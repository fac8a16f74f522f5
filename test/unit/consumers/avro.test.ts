import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { create, type DescMessage, equals, fromJson, type MessageShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import avro from "avsc";
import { describe, expect, it } from "vitest";
import { avroSchemaOf, EVENT_TYPES, fromAvroRecord, toAvroRecord } from "../../../consumers/index.ts";
import { CampaignStatusChangedSchema } from "../../../gen/platform/notification/events/v1/campaign_status_changed_pb.ts";
import { MessageStatusUpdatedSchema } from "../../../gen/platform/notification/events/v1/message_status_updated_pb.ts";
import { SendRequestSchema } from "../../../gen/platform/notification/events/v1/send_request_pb.ts";
import { DevicePlatform, DeviceSchema } from "../../../gen/platform/notification/v1/device_service_pb.ts";
import { UserPreferencesSchema } from "../../../gen/platform/notification/v1/preference_service_pb.ts";
import { loadProtoComments } from "../../../server/openapi/proto-comments.ts";
import { specCampaignStatusChanged, specSendRequest } from "../../support/spec-examples.ts";

/** proto → Avro record → bytes → Avro record → proto, with the schema generated for the message. */
function roundTrip<Desc extends DescMessage>(desc: Desc, message: MessageShape<Desc>): MessageShape<Desc> {
  const type = avro.Type.forSchema(avroSchemaOf(desc));
  const bytes = type.toBuffer(toAvroRecord(desc, message));
  return fromAvroRecord(desc, type.fromBuffer(bytes));
}

describe("Avro schemas generated from the event messages", () => {
  it("are the committed contracts/avro files, one per event type, with the proto comments as docs", () => {
    const docs = loadProtoComments(
      fileURLToPath(new URL("../../../server/openapi/descriptors.binpb", import.meta.url)),
    );
    for (const { type, message } of EVENT_TYPES) {
      const committed = readFileSync(
        new URL(`../../../contracts/avro/${type}.avsc`, import.meta.url),
        "utf8",
      );
      expect(JSON.parse(committed), type).toEqual(avroSchemaOf(message, docs));
    }
    const payloadVariables = avroSchemaOf(SendRequestSchema, docs).fields.find(
      (field) => field.name === "payloadVariables",
    );
    expect(payloadVariables?.doc).toMatch(/^The template's variables\..*A JSON object, as text\.$/s);
  });

  it("round-trip the specification's send request to the same message", () => {
    const request = fromJson(SendRequestSchema, JSON.parse(specSendRequest));
    const decoded = roundTrip(SendRequestSchema, request);
    expect(equals(SendRequestSchema, decoded, request)).toBe(true);
    expect(decoded.payloadVariables).toEqual(request.payloadVariables);
  });

  it("carry a send time to the microsecond, dropping finer nanoseconds", () => {
    const request = fromJson(SendRequestSchema, JSON.parse(specSendRequest));
    const deliveryOptions = request.deliveryOptions;
    if (!deliveryOptions) throw new Error("the example has delivery options");
    deliveryOptions.sendAtUtc = fromJson(SendRequestSchema, {
      deliveryOptions: { sendAtUtc: "1969-12-31T23:59:59.123456789Z" },
    }).deliveryOptions?.sendAtUtc;
    const decoded = roundTrip(SendRequestSchema, request);
    expect(decoded.deliveryOptions?.sendAtUtc).toMatchObject({ seconds: -1n, nanos: 123_456_000 });
  });

  it("round-trip the campaign and message status events", () => {
    const campaign = fromJson(CampaignStatusChangedSchema, JSON.parse(specCampaignStatusChanged));
    expect(
      equals(CampaignStatusChangedSchema, roundTrip(CampaignStatusChangedSchema, campaign), campaign),
    ).toBe(true);
    const status = create(MessageStatusUpdatedSchema, {
      messageId: "0f8e2f4e-1b7c-4d0a-9d3e-2f7c1a5b6c7d",
      channel: "email",
      status: "delivered",
      provider: "smtp",
      attempt: 2,
      occurredAt: timestampFromDate(new Date("2024-03-18T10:15:30.123Z")),
    });
    expect(equals(MessageStatusUpdatedSchema, roundTrip(MessageStatusUpdatedSchema, status), status)).toBe(
      true,
    );
  });

  it("write required fields without a default, message fields as nullable, others with their zero value", () => {
    const fields = Object.fromEntries(
      avroSchemaOf(SendRequestSchema).fields.map((field) => [field.name, field]),
    );
    expect(fields.requestId).toEqual({ name: "requestId", type: "string" });
    expect(fields.correlationId).toEqual({ name: "correlationId", type: "string", default: "" });
    expect(fields.payloadVariables).toMatchObject({
      name: "payloadVariables",
      type: ["null", "string"],
      default: null,
    });
    expect(fields.recipients).toMatchObject({ type: { type: "array" }, default: [] });
  });

  it("map enums to Avro enums defaulting to the zero value, and timestamps to micros", () => {
    const schema = avroSchemaOf(DeviceSchema);
    expect(schema.fields.find((field) => field.name === "platform")).toEqual({
      name: "platform",
      type: {
        type: "enum",
        name: "DevicePlatform",
        namespace: "platform.notification.v1",
        symbols: ["DEVICE_PLATFORM_UNSPECIFIED", "DEVICE_PLATFORM_ANDROID_FCM", "DEVICE_PLATFORM_IOS_APNS"],
        default: "DEVICE_PLATFORM_UNSPECIFIED",
      },
      default: "DEVICE_PLATFORM_UNSPECIFIED",
    });
    expect(schema.fields.find((field) => field.name === "lastSeenTime")).toEqual({
      name: "lastSeenTime",
      type: ["null", { type: "long", logicalType: "timestamp-micros" }],
      default: null,
    });
    const device = create(DeviceSchema, {
      id: "device-1",
      platform: DevicePlatform.IOS_APNS,
      token: "apns_token_abc",
      active: true,
      createTime: timestampFromDate(new Date("2024-03-18T10:15:30.123Z")),
    });
    expect(equals(DeviceSchema, roundTrip(DeviceSchema, device), device)).toBe(true);
  });

  it("refuse what they have no mapping for, naming the field", () => {
    expect(() => avroSchemaOf(UserPreferencesSchema)).toThrow(
      "field platform.notification.v1.UserPreferences.notification_types: maps have no Avro mapping yet",
    );
  });

  it("let a reader with a newer schema read older data, the new field taking its default", () => {
    const writer = avro.Type.forSchema(avroSchemaOf(CampaignStatusChangedSchema));
    const newer = avroSchemaOf(CampaignStatusChangedSchema);
    newer.fields.push({ name: "reasonDetail", type: ["null", "string"], default: null });
    const reader = avro.Type.forSchema(newer);
    const campaign = fromJson(CampaignStatusChangedSchema, JSON.parse(specCampaignStatusChanged));
    const bytes = writer.toBuffer(toAvroRecord(CampaignStatusChangedSchema, campaign));
    expect(reader.fromBuffer(bytes, reader.createResolver(writer))).toMatchObject({
      campaignId: "campaign-uuid-abc",
      reasonDetail: null,
    });
  });
});
