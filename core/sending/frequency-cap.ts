/** At most `messages` campaign messages to a user in any `windowMs`. */
export interface FrequencyCap {
  messages: number;
  windowMs: number;
}

/** What the message log knows of the campaign messages users got. */
export interface CampaignMessageCounts {
  /**
   * For each of `userIds` that has any, the campaign messages recorded for them since `since`,
   * suppressed ones not counted (they never reached the user).
   */
  countSince(userIds: string[], since: Date): Promise<Map<string, number>>;
}
