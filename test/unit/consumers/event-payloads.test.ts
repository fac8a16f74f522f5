import {
  create,
  type DescMessage,
  fromJson,
  type JsonValue,
  type MessageShape,
  toJson,
} from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { CampaignStatusChangedSchema } from "../../../gen/platform/notification/events/v1/campaign_status_changed_pb.ts";
import { MessageStatusUpdatedSchema } from "../../../gen/platform/notification/events/v1/message_status_updated_pb.ts";
import { SendRequestSchema } from "../../../gen/platform/notification/events/v1/send_request_pb.ts";
import { contractValidator } from "../../../mappers/index.ts";
import { specCampaignStatusChanged, specSendRequest } from "../../support/spec-examples.ts";

const validator = contractValidator();

/** The violated fields as "recipients[0].email_to", each with its rule id. */
function violationsOf<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): string[] {
  const result = validator.validate(schema, message);
  if (result.kind === "error") throw result.error;
  if (result.kind === "valid") return [];
  return result.violations.map((violation) => `${pathToString(violation.field)}: ${violation.ruleId}`);
}

function withoutNullSendAt(json: JsonValue): JsonValue {
  const copy = structuredClone(json) as { deliveryOptions: { sendAtUtc?: unknown } };
  delete copy.deliveryOptions.sendAtUtc;
  return copy as JsonValue;
}

/** The specification's example as JSON, as far as the tests below change it. */
interface SendRequestJson {
  requestId?: string;
  recipients: JsonValue[];
  templateName: string;
  deliveryOptions: { channels: string[]; priority: string; sendAtUtc: string | null };
}

function specRequestWith(change: (json: SendRequestJson) => void) {
  const json = JSON.parse(specSendRequest) as SendRequestJson;
  change(json);
  return fromJson(SendRequestSchema, json as unknown as JsonValue);
}

describe("SendRequest: the data of com.platform.notification.send.request.v1", () => {
  it("reads the specification's example and writes it back unchanged (an unset sendAtUtc is omitted)", () => {
    const json = JSON.parse(specSendRequest) as JsonValue;
    const request = fromJson(SendRequestSchema, json);
    expect(request.recipients[0]?.deviceTokens[1]).toMatchObject({
      token: "apns_token_abc",
      platform: "ios_apns",
    });
    expect(request.deliveryOptions?.sendAtUtc).toBeUndefined();
    expect(request.payloadVariables?.userName).toBe("Иван Петров");
    expect(toJson(SendRequestSchema, request)).toEqual(withoutNullSendAt(json));
  });

  it("takes the specification's example as valid", () => {
    expect(violationsOf(SendRequestSchema, fromJson(SendRequestSchema, JSON.parse(specSendRequest)))).toEqual(
      [],
    );
  });

  it("writes a send time as RFC 3339 UTC", () => {
    const request = specRequestWith((json) => {
      json.deliveryOptions.sendAtUtc = "2024-03-20T08:00:00Z";
    });
    expect(toJson(SendRequestSchema, request)).toMatchObject({
      deliveryOptions: { sendAtUtc: "2024-03-20T08:00:00Z" },
    });
  });

  it("refuses a request without recipients", () => {
    const request = specRequestWith((json) => {
      json.recipients = [];
    });
    expect(violationsOf(SendRequestSchema, request)).toEqual(["recipients: repeated.min_items"]);
  });

  it("refuses more than 1000 recipients", () => {
    const request = specRequestWith((json) => {
      json.recipients = Array.from({ length: 1001 }, (_, index) => ({ userId: `user-${index}` }));
    });
    expect(violationsOf(SendRequestSchema, request)).toEqual(["recipients: repeated.max_items"]);
  });

  it("refuses an unknown channel, a repeated channel and a bad priority", () => {
    const request = specRequestWith((json) => {
      json.deliveryOptions.channels = ["email", "fax", "email"];
      json.deliveryOptions.priority = "urgent";
    });
    expect(violationsOf(SendRequestSchema, request)).toEqual([
      "delivery_options.channels: repeated.unique",
      "delivery_options.channels[1]: string.in",
      "delivery_options.priority: string.in",
    ]);
  });

  it("refuses missing delivery options, request id and template name", () => {
    const request = specRequestWith((json) => {
      const partial: Partial<SendRequestJson> = json;
      delete partial.deliveryOptions;
      delete partial.requestId;
      json.templateName = "";
    });
    expect(violationsOf(SendRequestSchema, request)).toEqual([
      "request_id: required",
      "template_name: required",
      "delivery_options: required",
    ]);
  });

  it("refuses a recipient with no address source, and malformed addresses", () => {
    const request = specRequestWith((json) => {
      json.recipients = [
        {},
        {
          emailTo: "not-an-email",
          phoneTo: "89991234567",
          deviceTokens: [{ token: "fcm_token_xyz", platform: "web" }],
        },
      ];
    });
    expect(violationsOf(SendRequestSchema, request)).toEqual([
      "recipients[0]: recipient.address_required",
      "recipients[1].email_to: string.email",
      "recipients[1].phone_to: string.pattern",
      "recipients[1].device_tokens[0].platform: string.in",
    ]);
  });

  it("takes a recipient given by one address only", () => {
    const request = specRequestWith((json) => {
      json.recipients = [{ userId: "user-1" }, { emailTo: "a@example.com" }, { phoneTo: "+79991234567" }];
      json.deliveryOptions.priority = "";
    });
    expect(violationsOf(SendRequestSchema, request)).toEqual([]);
  });
});

describe("CampaignStatusChanged: the data of com.platform.notification.campaign.status.changed.v1", () => {
  it("reads the specification's example, writes it back unchanged and takes it as valid", () => {
    const json = JSON.parse(specCampaignStatusChanged) as JsonValue;
    const event = fromJson(CampaignStatusChangedSchema, json);
    expect(toJson(CampaignStatusChangedSchema, event)).toEqual(json);
    expect(violationsOf(CampaignStatusChangedSchema, event)).toEqual([]);
  });

  it("refuses a status the campaigns table does not have", () => {
    const event = fromJson(CampaignStatusChangedSchema, {
      ...JSON.parse(specCampaignStatusChanged),
      newStatus: "running",
    });
    expect(violationsOf(CampaignStatusChangedSchema, event)).toEqual(["new_status: string.in"]);
  });
});

describe("MessageStatusUpdated: the data of com.platform.notification.message.status.updated.v1", () => {
  const failed = create(MessageStatusUpdatedSchema, {
    messageId: "0f8e2f4e-1b7c-4d0a-9d3e-2f7c1a5b6c7d",
    requestId: "req-uuid-unique",
    correlationId: "order-uuid-xyz",
    userId: "user-uuid-123",
    channel: "push_fcm",
    status: "failed",
    reason: "INVALID_TOKEN",
    reasonDetail: "the provider no longer knows this registration token",
    provider: "fcm",
    templateName: "order_confirmation",
    templateVersion: 3,
    attempt: 1,
    occurredAt: timestampFromDate(new Date("2024-03-18T10:15:30.123Z")),
  });

  it("is written in camelCase JSON and is valid", () => {
    expect(toJson(MessageStatusUpdatedSchema, failed)).toEqual({
      messageId: "0f8e2f4e-1b7c-4d0a-9d3e-2f7c1a5b6c7d",
      requestId: "req-uuid-unique",
      correlationId: "order-uuid-xyz",
      userId: "user-uuid-123",
      channel: "push_fcm",
      status: "failed",
      reason: "INVALID_TOKEN",
      reasonDetail: "the provider no longer knows this registration token",
      provider: "fcm",
      templateName: "order_confirmation",
      templateVersion: 3,
      attempt: 1,
      occurredAt: "2024-03-18T10:15:30.123Z",
    });
    expect(violationsOf(MessageStatusUpdatedSchema, failed)).toEqual([]);
  });

  it("refuses an unknown status, a reason that is not a code, and no time", () => {
    const bad = create(MessageStatusUpdatedSchema, { ...failed, status: "bounced", reason: "token expired" });
    bad.occurredAt = undefined;
    expect(violationsOf(MessageStatusUpdatedSchema, bad)).toEqual([
      "status: string.in",
      "reason: string.pattern",
      "occurred_at: required",
    ]);
  });
});
