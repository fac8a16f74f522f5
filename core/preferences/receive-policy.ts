import type { PreferenceStore } from "./preference-store.ts";
import { defaultPreferences } from "./preferences.ts";
import { type Delivery, type ReceiveDecision, receiveDecision } from "./receive-decision.ts";

/** What sending asks of preferences: whether a user receives a delivery, and if not, why. */
export interface ReceivePolicy {
  decide(userId: string, delivery: Delivery): Promise<ReceiveDecision>;
}

/** ReceivePolicy over saved preferences; a user who never saved any has the defaults. */
export class StoredReceivePolicy implements ReceivePolicy {
  constructor(private readonly store: PreferenceStore) {}

  async decide(userId: string, delivery: Delivery): Promise<ReceiveDecision> {
    const preferences = (await this.store.find(userId)) ?? defaultPreferences(userId);
    return receiveDecision(preferences, delivery);
  }
}
