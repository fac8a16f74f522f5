import { timestampDate } from "@bufbuild/protobuf/wkt";
import { CHANNELS, type Channel } from "../core/channels.ts";
import type { DevicePlatform } from "../core/devices/index.ts";
import type { Priority, SendRequest } from "../core/sending/index.ts";
import type { SendRequest as SendRequestMessage } from "../gen/platform/notification/events/v1/send_request_pb.ts";

// The contract's `in` rules allow exactly these strings; validation has run before a mapping.
const CHANNEL_NAMES = new Set<string>(CHANNELS);
const PLATFORMS = new Set<string>(["android_fcm", "ios_apns"]);
const PRIORITIES = new Set<string>(["high", "normal", "low"]);

/** The fields of a send request, which the Kafka event and the API's bulk send share. */
export type SendRequestFields = Omit<SendRequestMessage, "$typeName" | "$unknown">;

/** The domain's request from a validated SendRequest message (or a bulk send), accepted at `receivedAt`. */
export function sendRequestOf(message: SendRequestFields, receivedAt: Date): SendRequest {
  const options = message.deliveryOptions;
  const sendAt = options?.sendAtUtc ? timestampDate(options.sendAtUtc) : undefined;
  return {
    requestId: message.requestId,
    recipients: message.recipients.map((recipient) => ({
      ...(recipient.userId ? { userId: recipient.userId } : {}),
      ...(recipient.emailTo ? { emailTo: recipient.emailTo } : {}),
      ...(recipient.phoneTo ? { phoneTo: recipient.phoneTo } : {}),
      deviceTokens: recipient.deviceTokens.map((device) => ({
        token: device.token,
        platform: known(PLATFORMS, device.platform, "platform") as DevicePlatform,
      })),
    })),
    templateName: message.templateName,
    languageCode: message.languageCode,
    variables: message.payloadVariables ?? {},
    channels: (options?.channels ?? []).map((channel) => known(CHANNEL_NAMES, channel, "channel") as Channel),
    priority: (options?.priority ? known(PRIORITIES, options.priority, "priority") : "normal") as Priority,
    ...(sendAt ? { sendAt } : {}),
    ...(options?.ttlSeconds ? { ttlSeconds: options.ttlSeconds } : {}),
    ...(message.correlationId ? { correlationId: message.correlationId } : {}),
    receivedAt,
  };
}

function known(values: Set<string>, value: string, what: string): string {
  if (!values.has(value)) throw new Error(`${what} "${value}" passed validation without being one we know`);
  return value;
}
