import type { Channel } from "../channels.ts";
import type { UnsubscribeScope } from "../preferences/index.ts";

/** The campaign a message was sent in. */
export interface CampaignMessage {
  userId: string;
  campaignId: string;
  /** "" for a campaign without variants. */
  campaignVariant: string;
}

/** One unsubscribe through a campaign message's link, as statistics keep it. */
export interface CampaignUnsubscribe extends CampaignMessage {
  at: Date;
  messageId: string;
  channel: Channel;
  /** The notification type turned off (the template's name). */
  type: string;
}

export interface CampaignUnsubscribesDeps {
  /** Undefined for a message not in the log, or sent outside a campaign. */
  messages: { campaignMessage(messageId: string): Promise<CampaignMessage | undefined> };
  /** Where statistics count them (ClickHouse). */
  records: { record(unsubscribe: CampaignUnsubscribe): Promise<void> };
  now?: () => Date;
}

/**
 * Counts an unsubscribe for the campaign whose message carried the link, beside the message
 * rather than as a status of it: the message's way (sent, delivered, opened…) is the same
 * whether its reader unsubscribed or not, and the status machine stays the message's.
 */
export class CampaignUnsubscribes {
  private readonly now: () => Date;

  constructor(private readonly deps: CampaignUnsubscribesDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Answers whether the unsubscribe was counted for a campaign. */
  async unsubscribed(scope: UnsubscribeScope): Promise<boolean> {
    if (!scope.messageId) return false;
    const message = await this.deps.messages.campaignMessage(scope.messageId);
    // The link is signed for its user and message both; a mismatch is a message of another user.
    if (!message || message.userId !== scope.userId) return false;
    await this.deps.records.record({
      ...message,
      at: this.now(),
      messageId: scope.messageId,
      channel: scope.channel,
      type: scope.type,
    });
    return true;
  }
}
