/**
 * What a provider tells us afterwards about a message it took (from its webhook, a status we
 * polled, or a bounce), named by the provider and its own id for the message.
 */
export type ProviderReport = {
  /** The configured provider's name, e.g. "sms-primary". */
  provider: string;
  /** The provider's id for the message, as its send answered. */
  providerMessageId: string;
  at: Date;
} & (
  | { kind: "delivered" }
  /** `permanent`: a hard bounce, an unknown number; the destination is suppressed for its channel. */
  | { kind: "failed"; reason: string; permanent: boolean }
  /** The recipient marked the message as spam: the address is suppressed for its channel. */
  | { kind: "complaint" }
  /** The recipient unsubscribed through the provider's own link. */
  | { kind: "unsubscribed" }
);
