export { EmailTracking } from "./email-tracking.ts";
export {
  CLICK_MIN_AFTER_SEND_MS,
  type MachineReason,
  machineReason,
  type TrackingClient,
} from "./machine-hits.ts";
export { type LinkedHtml, linkedHtml, type TrackingUrls, trackedHtml } from "./tracked-html.ts";
export type { CountedHit, TrackedMessage, TrackedMessages } from "./tracked-messages.ts";
export { type HitOutcome, TrackingHits, type TrackingHitsDeps } from "./tracking-hits.ts";
export { TRACKING_PATH, type TrackedLink, type TrackingKind, TrackingLinks } from "./tracking-links.ts";
