import type { Channel as DomainChannel } from "../core/channels.ts";
import { Channel } from "../gen/platform/notification/v1/common_pb.ts";

const DOMAIN_OF: Record<Exclude<Channel, Channel.UNSPECIFIED>, DomainChannel> = {
  [Channel.EMAIL]: "email",
  [Channel.SMS]: "sms",
  [Channel.PUSH_FCM]: "push_fcm",
  [Channel.PUSH_APNS]: "push_apns",
  [Channel.IN_APP]: "in_app",
};

const PROTO_OF = Object.fromEntries(
  Object.entries(DOMAIN_OF).map(([proto, domain]) => [domain, Number(proto)]),
) as Record<DomainChannel, Channel>;

/** The domain's channel for a proto one; UNSPECIFIED has none (validation rejects it where required). */
export function channelOf(channel: Channel): DomainChannel | undefined {
  return channel === Channel.UNSPECIFIED ? undefined : DOMAIN_OF[channel];
}

export function protoChannelOf(channel: DomainChannel): Channel {
  return PROTO_OF[channel];
}
