import type { Channel } from "../../core/channels.ts";
import { IN_APP_PROVIDER, type InboxStore, type LiveInboxPublisher } from "../../core/inbox/index.ts";
import type { DeliveryOutcome, OutgoingMessage, Provider } from "../../core/sending/index.ts";
import { storableUserId } from "../../core/uuids.ts";

export interface InAppProviderDeps {
  inbox: Pick<InboxStore, "append">;
  live: LiveInboxPublisher;
}

/**
 * The in-app channel: a message is stored in the user's inbox under their next seq, then
 * published for the gateway instances holding the user's sockets. It is `sent` once both
 * happened; a failure of either is retried, and storing is idempotent by message id, so a
 * retry publishes the message it stored the first time.
 */
export class InAppProvider implements Provider {
  readonly name = IN_APP_PROVIDER;
  readonly channels: readonly Channel[] = ["in_app"];

  constructor(private readonly deps: InAppProviderDeps) {}

  async send(message: OutgoingMessage): Promise<DeliveryOutcome> {
    const { destination } = message;
    if (destination.channel !== "in_app") {
      throw new Error(`the in-app provider was handed a ${destination.channel} message`);
    }
    if (!storableUserId(destination.userId)) {
      return { status: "failed", reason: "an in-app message needs the user's UUID", retryable: false };
    }
    let stored: Awaited<ReturnType<InboxStore["append"]>>;
    try {
      stored = await this.deps.inbox.append({
        userId: destination.userId,
        messageId: message.messageId,
        notificationType: message.notificationType ?? "",
        title: message.subject,
        body: message.body,
      });
    } catch (error) {
      return {
        status: "failed",
        reason: `the inbox could not store it: ${reasonOf(error)}`,
        retryable: true,
      };
    }
    try {
      await this.deps.live.publish({ kind: "message", message: stored });
    } catch (error) {
      return {
        status: "failed",
        reason: `the gateways could not be told: ${reasonOf(error)}`,
        retryable: true,
      };
    }
    return { status: "sent", providerMessageId: String(stored.seq) };
  }

  async close(): Promise<void> {}
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
