import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import type { MessageQueries } from "../../core/sending/index.ts";

/**
 * The message log without its keys (RECIPIENT_KEYS unset): every recipient in it is sealed,
 * so nothing can be read. The process still serves the rest; these reads say why they cannot.
 */
export const UNCONFIGURED_MESSAGE_QUERIES: MessageQueries = {
  get: () => Promise.reject(notConfigured()),
  list: () => Promise.reject(notConfigured()),
};

function notConfigured(): DomainError {
  return new DomainError(
    ErrorCatalog.unavailable,
    "the message log cannot be read: RECIPIENT_KEYS and RECIPIENT_LOOKUP_KEY are not set",
  );
}
