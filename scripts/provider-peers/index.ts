// Stand-ins for the providers' servers, for tests and local development: each speaks its
// vendor's protocol on a local port, keeps what it received and misbehaves when told to.

export { SMTP_FAULT_MODES, type SmtpFault, type SmtpFaultMode, smtpFault } from "./smtp-fault.ts";
export {
  type MailAddress,
  type ReceivedEmail,
  type SmtpPeer,
  type SmtpPeerOptions,
  startSmtpPeer,
} from "./smtp-peer.ts";
