/** Where a message stands; every change is recorded in the message log, ClickHouse and a status event. */
export type MessageStatus =
  | "scheduled"
  | "queued"
  | "sent"
  | "delivered"
  | "opened"
  | "clicked"
  | "failed"
  | "expired"
  | "suppressed"
  | "cancelled";

export const MESSAGE_STATUSES: readonly MessageStatus[] = [
  "scheduled",
  "queued",
  "sent",
  "delivered",
  "opened",
  "clicked",
  "failed",
  "expired",
  "suppressed",
  "cancelled",
];

// What each status may follow. Reports arrive out of order (an open before the delivery
// receipt, a bounce after an open), so a later stage may skip the ones before it, and a
// provider's bounce may fail a message it had accepted; a message that never left us
// (suppressed, expired, cancelled) stays as it ended.
const MAY_FOLLOW: Record<MessageStatus, readonly MessageStatus[]> = {
  scheduled: [],
  queued: ["scheduled"],
  sent: ["queued"],
  delivered: ["queued", "sent"],
  // A reader can be quicker than the dispatcher's record of the send (an in-app message is
  // on the user's screen before its `sent` commits).
  opened: ["queued", "sent", "delivered"],
  clicked: ["queued", "sent", "delivered", "opened"],
  // A waiting message fails at its release when nothing of it can be sent any more (its template gone).
  failed: ["scheduled", "queued", "sent", "delivered"],
  expired: ["scheduled", "queued"],
  suppressed: ["queued"],
  cancelled: ["scheduled", "queued"],
};

/** The statuses a message may be in for `next` to be recorded; anything else leaves it as it is. */
export function statusesBefore(next: MessageStatus): readonly MessageStatus[] {
  return MAY_FOLLOW[next];
}

/** The statuses a message can start in: waiting, on its way, or ended before any send. */
export type InitialStatus = "scheduled" | "queued" | "suppressed" | "expired" | "failed";
