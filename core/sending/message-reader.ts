import type { Caller } from "../caller.ts";
import { DomainError, ErrorCatalog } from "../errors.ts";
import type { LoggedMessage, MessageFilter, MessagePage, MessageQueries } from "./message-queries.ts";

/** Read access to the message log, with the rule of whose messages a caller may see. */
export class MessageReader {
  constructor(private readonly queries: MessageQueries) {}

  async get(id: string, caller: Caller): Promise<LoggedMessage> {
    const message = await this.queries.get(id);
    // The same answer for another user's message as for none: ids cannot be probed.
    if (!message || !mayRead(caller, message.userId)) {
      throw new DomainError(ErrorCatalog.notFound, `no message ${id}`, { pointer: "/message_id" });
    }
    return message;
  }

  async list(filter: MessageFilter, caller: Caller): Promise<MessagePage> {
    // The access policy already holds a user to their own user_id; this keeps the rule in the
    // domain too, so no other edge can list someone else's messages by leaving it out.
    if (!mayRead(caller, filter.userId ?? "")) {
      throw new DomainError(
        ErrorCatalog.permissionDenied,
        "a user may list only their own messages: user_id must be the caller's id",
        { parameter: "user_id" },
      );
    }
    return this.queries.list(filter);
  }
}

/** Admins, support and services read every message; a user only their own. */
function mayRead(caller: Caller, ownerId: string): boolean {
  if (caller.roles.some((role) => role === "admin" || role === "support" || role === "service")) return true;
  return caller.roles.includes("user") && caller.subject !== "" && caller.subject === ownerId;
}
