// Stand-ins for the providers' servers, for tests and local development: each speaks its
// vendor's protocol on a local port, keeps what it received and misbehaves when told to.

export { type ApnsPeer, type ApnsPeerOptions, type ReceivedApnsPush, startApnsPeer } from "./apns-peer.ts";
export {
  FCM_HOSTNAMES,
  type FcmPeer,
  type FcmPeerOptions,
  type ReceivedFcmMessage,
  startFcmPeer,
} from "./fcm-peer.ts";
export {
  type MailboxItem,
  type Pop3MailboxPeer,
  type Pop3MailboxPeerOptions,
  startPop3MailboxPeer,
} from "./pop3-mailbox-peer.ts";
export { PUSH_FAULT_MODES, type PushFault, type PushFaultMode, pushFault } from "./push-fault.ts";
export { SMS_FAULT_MODES, type SmsFault, type SmsFaultMode, smsFault } from "./sms-fault.ts";
export type { ReceivedSms } from "./sms-peer-server.ts";
export { type ReceivedSmsc, type SmscPeer, type SmscPeerOptions, startSmscPeer } from "./smsc-peer.ts";
export {
  type ReceivedSmsRu,
  type SmsRuCallbackCall,
  type SmsRuPeer,
  type SmsRuPeerOptions,
  startSmsRuPeer,
} from "./smsru-peer.ts";
export type { LaterBounce } from "./smtp-dsn.ts";
export { SMTP_FAULT_MODES, type SmtpFault, type SmtpFaultMode, smtpFault } from "./smtp-fault.ts";
export {
  type MailAddress,
  type ReceivedEmail,
  type SmtpPeer,
  type SmtpPeerOptions,
  startSmtpPeer,
} from "./smtp-peer.ts";
export {
  UNISENDER_GO_FAULT_MODES,
  type UnisenderGoFault,
  type UnisenderGoFaultMode,
  unisenderGoFault,
} from "./unisender-go-fault.ts";
export {
  type ReceivedUnisenderGoMessage,
  signUnisenderGoWebhook,
  startUnisenderGoPeer,
  type UnisenderGoFailedEmailCode,
  type UnisenderGoFinalStatus,
  type UnisenderGoPeer,
  type UnisenderGoPeerOptions,
  type UnisenderGoWebhookCall,
} from "./unisender-go-peer.ts";
export type { UnisenderGoRecipient, UnisenderGoSendMessage } from "./unisender-go-send-request.ts";
