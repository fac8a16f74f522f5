// Delivery: the dispatcher, the providers behind core's Provider port, and the registry that names them.

export { Dispatcher, type DispatcherDeps, type DispatchReport } from "./dispatcher.ts";
export {
  type BreakerState,
  type ProviderGateSettings,
  ProviderGates,
} from "./failover/index.ts";
export { ProviderRegistry } from "./provider-registry.ts";
export { ApnsProvider, type ApnsProviderOptions } from "./providers/apns.provider.ts";
export { FcmProvider, type FcmProviderOptions } from "./providers/fcm.provider.ts";
export { InAppProvider, type InAppProviderDeps } from "./providers/in-app.provider.ts";
export {
  type Mailbox,
  type MailboxMessage,
  type MailboxSession,
  Pop3Error,
  Pop3Mailbox,
  type Pop3MailboxOptions,
} from "./providers/pop3-mailbox.ts";
export { type RoutedHttpsAgentOptions, routedHttpsAgent } from "./providers/routed-https-agent.ts";
export { type SinkOptions, SinkProvider, type SinkRecord } from "./providers/sink.provider.ts";
export type { SmsHttpOptions } from "./providers/sms-provider-base.ts";
export { measureSmsText, type SmsEncoding, type SmsTextMeasure } from "./providers/sms-text.ts";
export {
  SmscProvider,
  type SmscProviderOptions,
  SmscStatusPoller,
  StatusPollError,
} from "./providers/smsc.provider.ts";
export { parseSmsRuCallback, SmsRuProvider, type SmsRuProviderOptions } from "./providers/smsru.provider.ts";
export { SmtpEmailProvider, type SmtpProviderOptions } from "./providers/smtp.provider.ts";
export {
  type BounceRound,
  type DsnIgnored,
  type DsnReading,
  parseDsn,
  SmtpBounceReader,
  type SmtpBounceReaderOptions,
} from "./providers/smtp-bounces.ts";
export {
  MESSAGE_ID_METADATA_KEY,
  UnisenderGoProvider,
  type UnisenderGoProviderOptions,
} from "./providers/unisender-go.provider.ts";
export {
  parseUnisenderGoWebhook,
  type UnisenderGoEvent,
  type UnisenderGoWebhook,
} from "./providers/unisender-go.webhook.ts";
