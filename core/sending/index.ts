export type { DeliveryClaim, DeliveryClaims, DeliveryKey } from "./delivery-claims.ts";
export type { SendTransaction, UnitOfWork } from "./unit-of-work.ts";
