import type { PreferenceStore } from "./preference-store.ts";
import { defaultPreferences } from "./preferences.ts";
import { type Delivery, type ReceiveDecision, receiveDecision } from "./receive-decision.ts";

/** Whether a user receives a delivery, and if not, why: a user not among those read has the defaults. */
export type ReceiveDecider = (userId: string, delivery: Delivery) => ReceiveDecision;

/** What sending asks of preferences: the decisions for the users of a batch, read at once. */
export interface ReceivePolicy {
  of(userIds: readonly string[]): Promise<ReceiveDecider>;
}

/**
 * ReceivePolicy over saved preferences; a user who never saved any has the defaults. One
 * look for a batch: a campaign's chunk of a hundred users took a hundred cache and database
 * round trips, one after another.
 */
export class StoredReceivePolicy implements ReceivePolicy {
  constructor(private readonly store: PreferenceStore) {}

  async of(userIds: readonly string[]): Promise<ReceiveDecider> {
    const saved = await this.store.findMany(userIds);
    return (userId, delivery) => receiveDecision(saved.get(userId) ?? defaultPreferences(userId), delivery);
  }
}
