export type {
  NewSuppression,
  Suppression,
  SuppressionReason,
} from "./suppression.ts";
export { SuppressionManager } from "./suppression-manager.ts";
export type { CheckedAddress, SuppressionQuery, SuppressionStore } from "./suppression-store.ts";
