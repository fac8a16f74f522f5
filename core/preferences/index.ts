export { PreferenceManager, type PreferenceUpdate } from "./preference-manager.ts";
export type { PreferenceStore } from "./preference-store.ts";
export {
  defaultPreferences,
  type PreferenceSettings,
  type TypePreference,
  type UserPreferences,
} from "./preferences.ts";
export {
  type Delivery,
  type ReceiveDecision,
  receiveDecision,
  type SuppressionReason,
} from "./receive-decision.ts";
export {
  type ReadPattern,
  type ReceiveDecider,
  type ReceivePolicy,
  StoredReceivePolicy,
} from "./receive-policy.ts";
export { UnsubscribeLinks, type UnsubscribeScope } from "./unsubscribe-links.ts";
