import { createContextKey } from "@connectrpc/connect";
import { ANONYMOUS, type Caller } from "../../core/caller.ts";

/** The authenticated caller of the current RPC, set by the authentication interceptor. */
export const callerKey = createContextKey<Caller>(ANONYMOUS, { description: "the authenticated caller" });
