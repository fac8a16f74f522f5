import { create, toJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { MessageStatusEvent, OutboxEvent, StatusEventEncoder } from "../core/sending/index.ts";
import { MessageStatusUpdatedSchema } from "../gen/platform/notification/events/v1/message_status_updated_pb.ts";
import { TOPICS } from "./topics.ts";

export const STATUS_EVENT_TYPE = "com.platform.notification.message.status.updated.v1";

/** Where our events say they come from (CloudEvents `source`). */
export const EVENT_SOURCE = "/notification-service";

const encoder = new TextEncoder();

/**
 * Status events as structured CloudEvents in JSON (the specification's form), keyed by
 * message id so that one message's events keep their order. The id is the message's and
 * the status's: an event published twice (the relay crashed after Kafka took it) is the
 * same event to a consumer that drops repeats.
 */
export class StructuredStatusEvents implements StatusEventEncoder {
  encode(events: MessageStatusEvent[]): OutboxEvent[] {
    return events.map((event) => ({
      topic: TOPICS.events,
      key: event.messageId,
      headers: { "content-type": "application/cloudevents+json; charset=UTF-8" },
      value: encoder.encode(
        `{"specversion":"1.0","id":${JSON.stringify(`${event.messageId}:${event.status}`)},"source":"${EVENT_SOURCE}",` +
          `"type":"${STATUS_EVENT_TYPE}","subject":${JSON.stringify(event.messageId)},` +
          `"time":"${event.occurredAt.toISOString()}","datacontenttype":"application/json",` +
          `"data":${toJsonString(MessageStatusUpdatedSchema, statusUpdatedOf(event))}}`,
      ),
    }));
  }
}

/** The contract's message of a status event. */
export function statusUpdatedOf(event: MessageStatusEvent) {
  return create(MessageStatusUpdatedSchema, {
    messageId: event.messageId,
    requestId: event.requestId,
    correlationId: event.correlationId ?? "",
    campaignId: event.campaignId ?? "",
    userId: event.userId ?? "",
    channel: event.channel,
    status: event.status,
    reason: event.reason ?? "",
    reasonDetail: event.reasonDetail ?? "",
    provider: event.provider ?? "",
    providerMessageId: event.providerMessageId ?? "",
    templateName: event.templateName,
    templateVersion: event.templateVersion,
    attempt: event.attempt,
    occurredAt: timestampFromDate(event.occurredAt),
    acceptedAt: timestampFromDate(event.acceptedAt),
    priority: event.priority,
  });
}
