import type { Caller } from "../caller.ts";
import type { Channel } from "../channels.ts";
import { maskForSupport } from "../personal-data.ts";

/**
 * How `caller` sees the recipient of a message for user `ownerId`: in full for an admin and
 * for the user themself; masked (maskRecipient) for everyone else. Support works on masked
 * values, and a service is another system of the platform that has no need of the addresses
 * of every user's messages (it can still look one up by the value it knows).
 */
export function recipientView(caller: Caller, ownerId: string): (channel: Channel, value: string) => string {
  const inFull =
    caller.roles.includes("admin") ||
    (caller.roles.includes("user") && caller.subject !== "" && caller.subject === ownerId);
  return inFull ? (_, value) => value : maskRecipient;
}

/**
 * A recipient with most of it hidden, in the form its channel gives it: an email as its
 * first character, "…" and its domain ("…@domain" for a local part under 4 characters), a
 * phone as its first 2 and last 2 characters ("…" under 10), a device token as
 * maskForSupport does: enough to tell two addresses apart on a call, not to write to one.
 */
export function maskRecipient(channel: Channel, value: string): string {
  if (value === "") return "";
  if (channel === "email") {
    const at = value.lastIndexOf("@");
    if (at < 0) return "…";
    const local = [...value.slice(0, at)];
    return `${local.length < 4 ? "" : local[0]}…${value.slice(at)}`;
  }
  if (channel === "sms") {
    const chars = [...value];
    return chars.length < 10 ? "…" : `${chars.slice(0, 2).join("")}…${chars.slice(-2).join("")}`;
  }
  return maskForSupport(value);
}
