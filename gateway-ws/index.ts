// The in-app WebSocket gateway: the frame protocol (PROTOCOL.md), connections, and the page.

export type { GatewayInbox, TokenAuthenticator, TokenCheck } from "./inbox-connection.ts";
export {
  GATEWAY_PATH,
  type GatewayCounters,
  InboxGateway,
  type InboxGatewayDeps,
  type InboxGatewaySettings,
} from "./inbox-gateway.ts";
export { createInboxPage, INBOX_PAGE_CSP, type InboxPageHandler } from "./inbox-page.ts";
export { CloseCode, PROTOCOL_VERSION, SUBPROTOCOL } from "./protocol.ts";
