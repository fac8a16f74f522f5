import type { PreferenceStore } from "./preference-store.ts";
import { defaultPreferences } from "./preferences.ts";
import { type Delivery, type ReceiveDecision, receiveDecision } from "./receive-decision.ts";

/** Whether a user receives a delivery, and if not, why: a user not among those read has the defaults. */
export type ReceiveDecider = (userId: string, delivery: Delivery) => ReceiveDecision;

/**
 * How often a batch's users are read: `repeatedly` for the everyday stream of sends, where
 * the same users come back; `once` for a campaign's audience, read once each per campaign.
 */
export type ReadPattern = "repeatedly" | "once";

/** What sending asks of preferences: the decisions for the users of a batch, read at once. */
export interface ReceivePolicy {
  of(userIds: readonly string[], pattern?: ReadPattern): Promise<ReceiveDecider>;
}

/**
 * ReceivePolicy over saved preferences; a user who never saved any has the defaults. One
 * look for a batch: a campaign's chunk of a hundred users took a hundred cache and database
 * round trips, one after another.
 */
export class StoredReceivePolicy implements ReceivePolicy {
  /**
   * `readOnce` answers the users read `once`: a cache in front of the store would only be
   * filled for them, never hit. A campaign's million users took two Redis scripts each.
   */
  constructor(
    private readonly store: PreferenceStore,
    private readonly readOnce: Pick<PreferenceStore, "findMany"> = store,
  ) {}

  async of(userIds: readonly string[], pattern: ReadPattern = "repeatedly"): Promise<ReceiveDecider> {
    const saved = await (pattern === "once" ? this.readOnce : this.store).findMany(userIds);
    return (userId, delivery) => receiveDecision(saved.get(userId) ?? defaultPreferences(userId), delivery);
  }
}
