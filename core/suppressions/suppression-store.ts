import type { Caller } from "../caller.ts";
import type { Channel } from "../channels.ts";
import type { NewSuppression, Suppression, SuppressionReason } from "./suppression.ts";

/** An address to check, of the kind its channel sends to. */
export interface CheckedAddress {
  channel: Channel;
  recipient: string;
}

export interface SuppressionQuery {
  channel?: Channel;
  reason?: SuppressionReason;
  /** The exact address, found by its lookup hash. */
  recipient?: string;
  /** From a previous page's nextCursor. */
  cursor?: string;
  limit: number;
}

/** Where suppressions live. Every write records its audit entry with it. */
export interface SuppressionStore {
  /** The reason of each suppressed one among `addresses`, by its index there; cheap when none is. */
  find(addresses: CheckedAddress[]): Promise<Map<number, SuppressionReason>>;
  /** Adds what is not there yet; an address already suppressed keeps its first reason. Answers how many were new. */
  add(entries: NewSuppression[], caller: Caller): Promise<number>;
  /** The entry it removed, or undefined when there was none with that id. */
  lift(id: string, caller: Caller): Promise<Suppression | undefined>;
  /** Newest first. */
  list(query: SuppressionQuery): Promise<{ suppressions: Suppression[]; nextCursor?: string }>;
}
