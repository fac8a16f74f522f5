import { type Caller, machineCaller } from "../caller.ts";
import type { Channel } from "../channels.ts";
import type { DeviceStore } from "../devices/index.ts";
import { DomainError } from "../errors.ts";
import type { PreferenceManager } from "../preferences/index.ts";
import type { NewSuppression, SuppressionStore } from "../suppressions/index.ts";
import type { ReportedMessage, StatusChange } from "./message-log.ts";
import type { ProviderReport } from "./provider-report.ts";
import type { MessageStatusEvent, StatusEventEncoder } from "./status-event.ts";
import type { UnitOfWork } from "./unit-of-work.ts";

export interface ProviderFeedbackDeps {
  unitOfWork: UnitOfWork;
  statusEvents: StatusEventEncoder;
  suppressions: Pick<SuppressionStore, "add">;
  devices: Pick<DeviceStore, "deactivateTokens">;
  preferences: Pick<PreferenceManager, "unsubscribe">;
}

/** A destination a provider said is gone for good when it was sent to. */
export interface GoneDestination {
  channel: Channel;
  recipient: string;
  messageId: string;
  provider: string;
  reason: string;
  /** The recipient complained (marked it as spam) rather than the address being dead. */
  complaint?: boolean;
}

/** What came of a batch of reports. */
export interface FeedbackOutcome {
  /** Reports whose message was found. */
  matched: number;
  /** Reports of messages we do not know (another system's, or rows removed since). */
  unknown: number;
  statusChanges: number;
  suppressed: number;
  unsubscribed: number;
}

const PUSH_CHANNELS: readonly Channel[] = ["push_fcm", "push_apns"];

/**
 * Acts on what providers tell us: a delivery receipt or a bounce becomes the message's status
 * (with its event, like every change), a hard bounce or a complaint suppresses the address for
 * its channel, a dead push token deactivates its device, and an unsubscribe through the
 * provider's link turns the type off in the user's preferences. Reports come again (webhooks
 * retry) and out of order: each of these is idempotent, and a status change that may not
 * follow the current one is left out.
 */
export class ProviderFeedback {
  constructor(private readonly deps: ProviderFeedbackDeps) {}

  async apply(reports: ProviderReport[]): Promise<FeedbackOutcome> {
    const outcome: FeedbackOutcome = {
      matched: 0,
      unknown: 0,
      statusChanges: 0,
      suppressed: 0,
      unsubscribed: 0,
    };
    const changes: StatusChange[] = [];
    const events: MessageStatusEvent[] = [];
    const gone: GoneDestination[] = [];
    const unsubscribes: ReportedMessage[] = [];
    for (const [provider, ofProvider] of groupBy(reports, (report) => report.provider)) {
      const theirIds = ofProvider.flatMap((report) => report.providerMessageId ?? []);
      const ourIds = ofProvider.flatMap((report) => report.messageId ?? []);
      const [byTheirs, byOurs] = await this.deps.unitOfWork.read(
        async (stores): Promise<[ReportedMessage[], ReportedMessage[]]> => [
          theirIds.length > 0 ? await stores.messages.findReported(provider, theirIds) : [],
          ourIds.length > 0 ? await stores.messages.findSent(provider, ourIds) : [],
        ],
      );
      const byTheirId = new Map(byTheirs.map((message) => [message.providerMessageId, message]));
      const byOurId = new Map(byOurs.map((message) => [message.event.messageId, message]));
      for (const report of ofProvider) {
        const message =
          report.messageId !== undefined
            ? byOurId.get(report.messageId)
            : byTheirId.get(report.providerMessageId);
        if (!message) {
          outcome.unknown++;
          continue;
        }
        outcome.matched++;
        const base = { messageId: message.event.messageId, at: report.at, provider };
        switch (report.kind) {
          case "delivered":
          case "opened":
          case "clicked": {
            const status = report.kind;
            changes.push({ ...base, status });
            events.push({ ...message.event, status, occurredAt: report.at, attempt: 0 });
            break;
          }
          case "failed": {
            const code = report.permanent ? "PROVIDER_BOUNCED" : "PROVIDER_NOT_DELIVERED";
            changes.push({ ...base, status: "failed", details: `${code}: ${report.reason}` });
            events.push({
              ...message.event,
              status: "failed",
              occurredAt: report.at,
              attempt: 0,
              reason: code,
              reasonDetail: report.reason,
            });
            if (report.permanent) gone.push(goneOf(message, provider, report.reason));
            break;
          }
          case "complaint":
            gone.push({ ...goneOf(message, provider, "the recipient marked it as spam"), complaint: true });
            break;
          case "unsubscribed":
            unsubscribes.push(message);
            break;
        }
      }
    }
    if (changes.length > 0) {
      const applied = await this.deps.unitOfWork.recordChanges(
        changes,
        this.deps.statusEvents.encode(events),
      );
      outcome.statusChanges = applied.length;
    }
    outcome.suppressed = await this.destinationsGone(gone);
    for (const message of unsubscribes) {
      const { userId, templateName, channel } = message.event;
      if (!userId) continue;
      try {
        await this.deps.preferences.unsubscribe(
          { userId, type: templateName, channel },
          providerCaller(message),
        );
        outcome.unsubscribed++;
      } catch (error) {
        // A user whose preferences cannot be kept: nothing to turn off.
        if (!(error instanceof DomainError)) throw error;
      }
    }
    return outcome;
  }

  /**
   * Destinations gone for good: push tokens deactivate their devices, addresses and phones go
   * on their channel's suppression list. Answers how many were suppressed or deactivated anew.
   */
  async destinationsGone(gone: GoneDestination[]): Promise<number> {
    let changed = 0;
    for (const [provider, ofProvider] of groupBy(gone, (each) => each.provider)) {
      const caller = machineCaller(`provider:${provider}`);
      const tokens = ofProvider.filter((each) => PUSH_CHANNELS.includes(each.channel));
      if (tokens.length > 0) {
        changed += (
          await this.deps.devices.deactivateTokens([...new Set(tokens.map((each) => each.recipient))], caller)
        ).length;
      }
      const addresses = ofProvider.filter(
        (each) => !PUSH_CHANNELS.includes(each.channel) && each.channel !== "in_app",
      );
      if (addresses.length > 0) {
        changed += await this.deps.suppressions.add(addresses.map(suppressionOf), caller);
      }
    }
    return changed;
  }
}

function goneOf(message: ReportedMessage, provider: string, reason: string): GoneDestination {
  return {
    channel: message.event.channel,
    recipient: message.recipient,
    messageId: message.event.messageId,
    provider,
    reason,
  };
}

function suppressionOf(gone: GoneDestination): NewSuppression {
  return {
    channel: gone.channel,
    recipient: gone.recipient,
    reason: gone.complaint ? "complaint" : gone.channel === "email" ? "hard_bounce" : "invalid_destination",
    details: gone.reason.slice(0, 500),
    source: gone.provider,
    messageId: gone.messageId,
  };
}

function providerCaller(message: ReportedMessage): Caller {
  return machineCaller(`provider:${message.event.provider ?? "unknown"}`);
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const same = groups.get(key) ?? [];
    same.push(item);
    groups.set(key, same);
  }
  return groups;
}
