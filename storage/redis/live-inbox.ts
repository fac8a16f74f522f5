import type { Redis } from "ioredis";
import type { InboxEvent, LiveInboxFeed, LiveInboxPublisher } from "../../core/inbox/index.ts";
import type { Logger } from "../../core/logger.ts";

/** One channel per user: a gateway instance listens only to the users whose sockets it holds. */
function channelOf(userId: string): string {
  return `notification:inbox:${userId}`;
}

const DATE_FIELDS = ["createdAt", "deliveredAt", "readAt", "archivedAt"] as const;

function parseEvent(text: string): InboxEvent {
  const event = JSON.parse(text) as InboxEvent;
  if (event.kind === "message") {
    const message = event.message as unknown as Record<string, unknown>;
    for (const field of DATE_FIELDS) {
      if (typeof message[field] === "string") message[field] = new Date(message[field]);
    }
  }
  return event;
}

/** Publishes inbox events with Redis PUBLISH. */
export class RedisLiveInboxPublisher implements LiveInboxPublisher {
  constructor(private readonly redis: Redis) {}

  async publish(event: InboxEvent): Promise<void> {
    const userId = event.kind === "message" ? event.message.userId : event.userId;
    await this.redis.publish(channelOf(userId), JSON.stringify(event));
  }
}

/**
 * Hears inbox events on a connection of its own (a subscribed connection can run nothing
 * else), subscribed to a user's channel while someone listens to it. ioredis subscribes again
 * after a reconnect; what was published in between is lost, which `onResumed` tells.
 */
export class RedisLiveInboxFeed implements LiveInboxFeed {
  private readonly listeners = new Map<string, Set<(event: InboxEvent) => void>>();
  private readonly resumed: (() => void)[] = [];
  private interrupted = false;

  constructor(
    private readonly connection: Redis,
    private readonly logger: Logger,
  ) {
    connection.on("message", (channel: string, text: string) => this.deliver(channel, text));
    connection.on("close", () => {
      this.interrupted = true;
    });
    connection.on("ready", () => {
      if (!this.interrupted) return;
      this.interrupted = false;
      for (const listener of this.resumed) listener();
    });
    connection.on("error", (error: Error) => {
      this.logger.warn({ err: error }, "the live inbox feed lost its Redis connection");
    });
  }

  async listen(userId: string, listener: (event: InboxEvent) => void): Promise<() => void> {
    let ofUser = this.listeners.get(userId);
    const first = !ofUser;
    if (!ofUser) {
      ofUser = new Set();
      this.listeners.set(userId, ofUser);
    }
    ofUser.add(listener);
    try {
      // Every listener waits for the confirmation: the first one's SUBSCRIBE may still be on its way.
      if (first) await this.connection.subscribe(channelOf(userId));
      else await this.connection.ping();
    } catch (error) {
      this.remove(userId, listener);
      throw error;
    }
    return () => this.remove(userId, listener);
  }

  onResumed(listener: () => void): void {
    this.resumed.push(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.connection.disconnect();
  }

  private remove(userId: string, listener: (event: InboxEvent) => void): void {
    const ofUser = this.listeners.get(userId);
    if (!ofUser?.delete(listener) || ofUser.size > 0) return;
    this.listeners.delete(userId);
    this.connection.unsubscribe(channelOf(userId)).catch((error: unknown) => {
      this.logger.warn({ err: error }, "unsubscribing from a user's inbox channel failed");
    });
  }

  private deliver(channel: string, text: string): void {
    const userId = channel.slice("notification:inbox:".length);
    const ofUser = this.listeners.get(userId);
    if (!ofUser) return;
    let event: InboxEvent;
    try {
      event = parseEvent(text);
    } catch (error) {
      this.logger.warn({ err: error, userId }, "an inbox event could not be read");
      return;
    }
    for (const listener of ofUser) listener(event);
  }
}
