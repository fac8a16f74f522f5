import type { Channel } from "../../core/channels.ts";
import {
  type DeliveryOutcome,
  normalizePhone,
  type OutgoingMessage,
  type Provider,
} from "../../core/sending/index.ts";
import { HttpsFormClient } from "./https-form-client.ts";
import { SendsInFlight } from "./sends-in-flight.ts";

/** What both SMS vendors' providers are configured with besides their credentials. */
export interface SmsHttpOptions {
  /** Unique among the providers, e.g. "sms-primary". */
  name: string;
  tls?: {
    /** The only certificates trusted, in place of the system's: for a test peer. */
    ca?: string;
  };
  /** How long one API request may take, from connecting to the whole answer (10 s by default). */
  timeoutMs?: number;
  /** Connections kept open to the API (10 by default). */
  maxConnections?: number;
}

/** One SMS ready for its vendor: the number as E.164 and the minutes it may live. */
export interface SmsToSend {
  message: OutgoingMessage;
  /** With its "+". */
  e164: string;
  /** From `expiresAt`, rounded down so the vendor never tries past it; undefined without a TTL. */
  minutesLeft?: number;
}

/**
 * What SMS providers over a vendor's HTTPS API share: checking what they are handed, the
 * number's normal form, the time left, and letting what is in flight finish on close.
 */
export abstract class SmsHttpProvider implements Provider {
  private readonly sends: SendsInFlight;
  readonly name: string;
  readonly channels: readonly Channel[] = ["sms"];
  protected readonly http: HttpsFormClient;

  protected constructor(options: SmsHttpOptions, baseUrl: string) {
    if (!options.name) throw new Error("an SMS provider needs a name");
    this.name = options.name;
    this.sends = new SendsInFlight(this.name);
    this.http = new HttpsFormClient({
      name: options.name,
      baseUrl,
      ...(options.tls?.ca ? { ca: options.tls.ca } : {}),
      timeoutMs: options.timeoutMs ?? 10_000,
      maxConnections: options.maxConnections ?? 10,
    });
  }

  send(message: OutgoingMessage): Promise<DeliveryOutcome> {
    return this.sends.track(() => this.prepare(message));
  }

  /** New messages fail as retryable at once; the requests in flight get their answers first. */
  async close(): Promise<void> {
    await this.sends.drain();
    this.http.close();
  }

  protected abstract deliver(sms: SmsToSend): Promise<DeliveryOutcome>;

  private async prepare(message: OutgoingMessage): Promise<DeliveryOutcome> {
    const { destination } = message;
    if (destination.channel !== "sms") {
      throw new Error(
        `${this.name} delivers sms, not ${destination.channel}: it was chosen against its channels`,
      );
    }
    const phone = normalizePhone(destination.phone);
    // No vendor could deliver to it either: failing over would only spend their refusals.
    if ("error" in phone) return { status: "failed", reason: phone.error, retryable: false };
    const minutesLeft = message.expiresAt
      ? Math.floor((message.expiresAt.getTime() - Date.now()) / 60_000)
      : undefined;
    return this.deliver({ message, e164: phone.e164, ...(minutesLeft === undefined ? {} : { minutesLeft }) });
  }
}
