import type { Channel } from "../channels.ts";

/** One delivery a send request asks for: one of its recipients on one channel. */
export interface DeliveryKey {
  /** The producer's request id: the same request redelivered or sent again has the same one. */
  requestId: string;
  /** Who within the request, stable across redeliveries (e.g. "user:<id>"); never an address in clear. */
  recipientKey: string;
  channel: Channel;
}

/**
 * A claim's answer: the first claim of a delivery gets a new message id; every later one
 * (Kafka redelivered it, the producer sent it again) gets that same id, as a duplicate.
 */
export type DeliveryClaim = { key: DeliveryKey; messageId: string; duplicate: boolean };

/** Claims deliveries before anything is sent, so that each is sent at most once whatever arrives twice. */
export interface DeliveryClaims {
  /** One answer per key, in the keys' order. Keys repeated within the call count once. */
  claim(keys: DeliveryKey[]): Promise<DeliveryClaim[]>;
}
