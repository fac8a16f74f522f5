import type { Redis } from "ioredis";
import type { Logger } from "../../core/logger.ts";

export interface InvalidationHandler {
  onMessage(message: string): void;
  /** The subscription dropped, so messages may have been missed: forget whatever they would have invalidated. */
  onReset(): void;
}

/**
 * Listens to the invalidation channels of every cache of the process on one
 * dedicated connection: a subscribed Redis connection can run no other command.
 * A channel counts as listened to only from the moment Redis confirmed the
 * subscription until the connection closes.
 */
export class InvalidationSubscriber {
  private readonly handlers = new Map<string, InvalidationHandler>();
  private readonly subscribed = new Set<string>();
  // One more with every closed connection, so a late confirmation of an old subscription is ignored.
  private connectionEpoch = 0;
  private connected = false;

  constructor(
    private readonly connection: Redis,
    private readonly logger: Logger,
  ) {
    connection.on("message", (channel: string, message: string) =>
      this.handlers.get(channel)?.onMessage(message),
    );
    // ioredis resubscribes on its own too, but only our own SUBSCRIBE tells when Redis confirmed it.
    connection.on("ready", () => {
      this.connected = true;
      this.subscribe([...this.handlers.keys()]);
    });
    connection.on("close", () => this.reset());
    connection.on("error", (error: Error) => {
      if (this.connected)
        this.logger.warn({ err: error }, "cache invalidation subscriber lost its connection");
    });
  }

  listen(channel: string, handler: InvalidationHandler): void {
    this.handlers.set(channel, handler);
    if (this.connection.status === "ready") this.subscribe([channel]);
  }

  isListening(channel: string): boolean {
    return this.subscribed.has(channel);
  }

  close(): void {
    this.connection.disconnect();
  }

  private subscribe(channels: string[]): void {
    if (channels.length === 0) return;
    const epoch = this.connectionEpoch;
    this.connection.subscribe(...channels).then(
      () => {
        if (epoch !== this.connectionEpoch) return;
        for (const channel of channels) this.subscribed.add(channel);
      },
      (error: unknown) => this.logger.warn({ err: error }, "subscribing to cache invalidations failed"),
    );
  }

  private reset(): void {
    this.connectionEpoch++;
    this.connected = false;
    this.subscribed.clear();
    for (const handler of this.handlers.values()) handler.onReset();
  }
}
