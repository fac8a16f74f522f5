import { createWriteStream, type WriteStream } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { BoundedMap } from "../../core/bounded-map.ts";
import { CHANNELS, type Channel } from "../../core/channels.ts";
import { fingerprint } from "../../core/personal-data.ts";
import {
  addressOf,
  type DeliveryOutcome,
  type OutgoingMessage,
  type Provider,
} from "../../core/sending/index.ts";

/** What the sink keeps of a message it "sent". */
export interface SinkRecord {
  messageId: string;
  providerMessageId: string;
  channel: Channel;
  /** The destination's fingerprint (personal-data.ts), never the address itself. */
  to: string;
  subject: string;
  body: string;
  bodyHtml: string;
  at: string;
}

export interface SinkOptions {
  name?: string;
  channels?: readonly Channel[];
  /** Appends one JSON line per sent message here; none: memory only. */
  file?: string;
  /** The share of sends answered as failures, from 0 to 1. */
  failRate?: number;
  /** Whether those failures may be retried (a provider outage) or not (a refused message). */
  failRetryable?: boolean;
  /** How long each send takes, in milliseconds. */
  latencyMs?: number;
  /** The most records and message ids kept in memory; the oldest go first. */
  remember?: number;
  random?: () => number;
  now?: () => Date;
}

/**
 * A provider for development and load tests: it delivers nothing, records what it would
 * have sent, and answers like a real provider, including its faults when told to. The
 * message id is its idempotency key: the same message sent twice is recorded once and
 * answered with the same provider id, as providers that take such a key do.
 * Its records hold rendered bodies in clear: it is for test data, never real users.
 */
export class SinkProvider implements Provider {
  readonly name: string;
  readonly channels: readonly Channel[];
  private readonly recorded: BoundedMap<string, SinkRecord>;
  private readonly file: WriteStream | undefined;
  private sequence = 0;

  constructor(private readonly options: SinkOptions = {}) {
    const failRate = options.failRate ?? 0;
    if (!(failRate >= 0 && failRate <= 1))
      throw new Error(`the sink's fail rate must be from 0 to 1, got ${failRate}`);
    if ((options.latencyMs ?? 0) < 0)
      throw new Error(`the sink's latency must not be negative, got ${options.latencyMs}`);
    if ((options.remember ?? 1) < 1)
      throw new Error(`the sink must remember at least one message, got ${options.remember}`);
    this.recorded = new BoundedMap(options.remember ?? 100_000);
    this.name = options.name ?? "sink";
    this.channels = options.channels ?? CHANNELS;
    this.file = options.file ? createWriteStream(options.file, { flags: "a" }) : undefined;
  }

  async send(message: OutgoingMessage): Promise<DeliveryOutcome> {
    if (!this.channels.includes(message.destination.channel)) {
      throw new Error(
        `${this.name} does not serve ${message.destination.channel}: it was chosen against its channels`,
      );
    }
    if (this.options.latencyMs) await delay(this.options.latencyMs);
    const known = this.recorded.get(message.messageId);
    if (known) return { status: "sent", providerMessageId: known.providerMessageId };
    if ((this.options.random ?? Math.random)() < (this.options.failRate ?? 0)) {
      return {
        status: "failed",
        reason: "the sink was told to fail",
        retryable: this.options.failRetryable ?? true,
      };
    }
    const record: SinkRecord = {
      messageId: message.messageId,
      providerMessageId: `${this.name}-${++this.sequence}`,
      channel: message.destination.channel,
      to: fingerprint(addressOf(message.destination)),
      subject: message.subject,
      body: message.body,
      bodyHtml: message.bodyHtml,
      at: (this.options.now ?? (() => new Date()))().toISOString(),
    };
    this.recorded.set(record.messageId, record);
    const file = this.file;
    if (file) {
      // Answered once the line is the system's, as a provider answers once it has the message: a
      // worker killed right after recording `sent` must not take the record of the send with it.
      // Lines of concurrent sends go out together, and a slow disk slows the sends down.
      await new Promise<void>((resolve, reject) =>
        file.write(`${JSON.stringify(record)}\n`, (error) => (error ? reject(error) : resolve())),
      );
    }
    return { status: "sent", providerMessageId: record.providerMessageId };
  }

  /** What it sent, oldest first, within what it remembers. */
  sent(): SinkRecord[] {
    return [...this.recorded.values()];
  }

  async close(): Promise<void> {
    const file = this.file;
    if (file)
      await new Promise<void>((resolve, reject) =>
        file.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
  }
}
