/**
 * What a provider tells us afterwards about a message it took (from its webhook, a status we
 * polled, or a bounce), named by the provider and either its own id for the message or ours.
 */
export type ProviderReport = {
  /** The configured provider's name, e.g. "sms-primary". */
  provider: string;
  at: Date;
} & ReportedMessageRef &
  (
    | { kind: "delivered" }
    /** The recipient opened or read it. */
    | { kind: "opened" }
    /** The recipient followed one of its links. */
    | { kind: "clicked" }
    /** `permanent`: a hard bounce, an unknown number; the destination is suppressed for its channel. */
    | { kind: "failed"; reason: string; permanent: boolean }
    /** The recipient marked the message as spam: the address is suppressed for its channel. */
    | { kind: "complaint" }
    /** The recipient unsubscribed through the provider's own link. */
    | { kind: "unsubscribed" }
  );

/**
 * How a report names its message. Most name it by the provider's id, as its send answered; a
 * report that returns what we gave the provider names it by our id instead: a bounce quotes
 * our Message-ID, while the send recorded the relay's queue id. Either way it is found among
 * the messages of the report's provider only.
 */
export type ReportedMessageRef =
  | { providerMessageId: string; messageId?: undefined }
  | { messageId: string; providerMessageId?: undefined };
