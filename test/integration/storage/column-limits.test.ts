import { type DescMessage, getOption, hasOption } from "@bufbuild/protobuf";
import type { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_SUBJECT_LENGTH } from "../../../core/caller.ts";
import { field as fieldRules } from "../../../gen/buf/validate/validate_pb.ts";
import {
  RecipientSchema,
  SendRequestSchema,
} from "../../../gen/platform/notification/events/v1/send_request_pb.ts";
import { CreateApiKeyRequestSchema } from "../../../gen/platform/notification/v1/api_key_service_pb.ts";
import { CampaignSchema } from "../../../gen/platform/notification/v1/campaign_service_pb.ts";
import { RegisterDeviceRequestSchema } from "../../../gen/platform/notification/v1/device_service_pb.ts";
import { SegmentSchema } from "../../../gen/platform/notification/v1/segment_service_pb.ts";
import { TemplateSchema } from "../../../gen/platform/notification/v1/template_service_pb.ts";
import { createOrm } from "../../../server/infrastructure.ts";
import { createLogger } from "../../../server/logger.ts";
import { localServices } from "../../support/services.ts";

// A value the API accepts must fit its column, or the caller gets a driver error (500)
// instead of a validation error. Every bounded text column is accounted for here: it holds
// a request field whose proto rule is at most its length, or a value the server writes.
const FROM_REQUESTS: Record<string, [DescMessage, string]> = {
  "notification_templates.name": [TemplateSchema, "name"],
  "notification_templates.default_language_code": [TemplateSchema, "default_language_code"],
  // The template a message was rendered from, by name.
  "notification_inbox.notification_type": [TemplateSchema, "name"],
  "device_tokens.app_version": [RegisterDeviceRequestSchema, "app_version"],
  "api_keys.name": [CreateApiKeyRequestSchema, "name"],
  "notification_campaigns.name": [CampaignSchema, "name"],
  "notification_campaigns.target_segment_id": [CampaignSchema, "target_segment_id"],
  "notification_segments.name": [SegmentSchema, "name"],
  // From send requests (Kafka, and the direct send to come).
  "notification_delivery_claims.request_id": [SendRequestSchema, "request_id"],
  "notification_message_log.request_id": [SendRequestSchema, "request_id"],
  "notification_message_log.correlation_id": [SendRequestSchema, "correlation_id"],
  "notification_message_log.user_id": [RecipientSchema, "user_id"],
  "notification_scheduled_sends.request_id": [SendRequestSchema, "request_id"],
};

// Written by the server, with the longest value it can write.
const FROM_SERVER: Record<string, number> = {
  // Enum values stored by their short names (email, push_fcm, android_fcm…).
  "notification_templates.channel_type": "push_apns".length,
  "device_tokens.device_platform": "android_fcm".length,
  // nsk_ and eight hex characters.
  "api_keys.prefix": 12,
  // The caller's subject: a JWT's sub, bounded when the token is verified, or a key id.
  "api_keys.created_by": MAX_SUBJECT_LENGTH,
  "audit_log.actor_id": MAX_SUBJECT_LENGTH,
  "audit_log.actor_type": "anonymous".length,
  "audit_log.action": 64,
  "audit_log.resource_type": 32,
  "audit_log.resource_id": 64,
  "audit_log.request_id": 128,
  // Delivery claims: who within the request ("user:" and its user id of at most 128, or
  // "recipient:" and its index) and a channel's short name.
  "notification_delivery_claims.recipient_key": 5 + 128,
  "notification_delivery_claims.channel": "push_apns".length,
  // The message log's short names.
  "notification_message_log.channel_type": "push_apns".length,
  "notification_message_log.provider_name": 64,
  // Cut to its length where a provider answers one (dispatch/dispatcher.ts).
  "notification_message_log.provider_message_id": 255,
  "notification_suppressions.channel_type": "push_apns".length,
  "notification_suppressions.reason": "invalid_destination".length,
  // A provider's name, or "admin:" and the admin's subject.
  "notification_suppressions.source": "admin:".length + MAX_SUBJECT_LENGTH,
  "notification_message_log.priority": "normal".length,
  "notification_message_log.status": "suppressed".length,
  // The outbox: Kafka's own limit on topic names.
  "notification_outbox.topic": 249,
  // Scheduled sends' own states.
  "notification_scheduled_sends.state": "cancelled".length,
  // A campaign's status, and who created and last changed it (a caller's subject, or "system").
  "notification_campaigns.status": "scheduled".length,
  // A variant's key (A…J: at most ten variants) and the runner's phase.
  "notification_message_log.campaign_variant": 1,
  "notification_campaigns.run_phase": "deciding".length,
  "notification_campaigns.created_by_subject": MAX_SUBJECT_LENGTH,
  "notification_campaigns.updated_by": MAX_SUBJECT_LENGTH,
  // An uploaded segment's status, and who created it.
  "notification_segments.status": "awaiting_upload".length,
  "notification_segments.created_by_subject": MAX_SUBJECT_LENGTH,
};

function maxLengthOf(schema: DescMessage, name: string): number | undefined {
  const field = schema.fields.find((each) => each.name === name);
  if (!field || !hasOption(field, fieldRules)) return undefined;
  const rules = getOption(field, fieldRules);
  return rules.type.case === "string" ? Number(rules.type.value.maxLen ?? Number.NaN) : undefined;
}

describe("bounded text columns and the API's rules", () => {
  const orm: MikroORM = createOrm({ url: localServices().databaseUrl, poolMax: 2 }, createLogger("silent"));
  afterAll(() => orm.close(true));

  it("gives every varchar column a rule at most its length", async () => {
    const columns = await orm.em
      .getConnection()
      .execute<
        { table_name: string; column_name: string; character_maximum_length: number }[]
      >(`SELECT table_name, column_name, character_maximum_length
         FROM information_schema.columns
        WHERE table_schema = current_schema() AND data_type = 'character varying'
          AND table_name <> 'schema_migrations'`);
    expect(columns.length).toBeGreaterThan(10);
    for (const column of columns) {
      const key = `${column.table_name}.${column.column_name}`;
      const request = FROM_REQUESTS[key];
      const limit = request ? maxLengthOf(...request) : FROM_SERVER[key];
      expect({ column: key, accountedFor: limit !== undefined && !Number.isNaN(limit) }).toEqual({
        column: key,
        accountedFor: true,
      });
      expect({
        column: key,
        fits: (limit ?? Number.POSITIVE_INFINITY) <= column.character_maximum_length,
      }).toEqual({ column: key, fits: true });
    }
  });
});
