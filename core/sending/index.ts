export type { DeliveryClaim, DeliveryClaims, DeliveryKey } from "./delivery-claims.ts";
export type { DeliveryOutcome, Destination, OutgoingMessage, Provider } from "./provider.ts";
export type { SendTransaction, UnitOfWork } from "./unit-of-work.ts";
