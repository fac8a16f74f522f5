import type { Channel } from "../channels.ts";
import type { DevicePlatform } from "../devices/index.ts";
import type { Variables } from "../templates/index.ts";

/** `high` is never queued behind `low` (a campaign's bulk). */
export type Priority = "high" | "normal" | "low";

/** A device address a request gives itself, instead of the user's stored devices. */
export interface DeviceAddress {
  token: string;
  platform: DevicePlatform;
}

/** Who a request goes to: a user, and addresses that override the stored ones. */
export interface Recipient {
  userId?: string;
  emailTo?: string;
  phoneTo?: string;
  deviceTokens: DeviceAddress[];
}

/** A send request as the domain reads it, whichever way it came (Kafka, RPC, REST). */
export interface SendRequest {
  /** The producer's id: the same request twice is sent once. */
  requestId: string;
  recipients: Recipient[];
  templateName: string;
  languageCode: string;
  variables: Variables;
  channels: Channel[];
  priority: Priority;
  /** Not before this; absent: now. */
  sendAt?: Date;
  /** Not after `receivedAt` (or `sendAt`) plus this many seconds. */
  ttlSeconds?: number;
  correlationId?: string;
  /**
   * False: its emails carry no open pixel and no tracked links, whatever their template
   * says. The campaign runner sets it from the campaign's tracking_enabled; requests from
   * Kafka and the API leave it to the template.
   */
  trackingEnabled?: boolean;
  /** The campaign it is a message of, recorded on its messages; set by the campaign runner only. */
  campaignId?: string;
  /** The campaign's A/B variant ("A", "B", …) it is of; set by the campaign runner only. */
  campaignVariant?: string;
  /**
   * The template version to send instead of the active one: an A/B variant may test a version
   * that is not active. Set by the campaign runner only.
   */
  templateVersion?: number;
  /** When this service accepted it. */
  receivedAt: Date;
}
