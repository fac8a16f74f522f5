import { DomainError, ErrorCatalog } from "../../core/errors.ts";
import { isUuid } from "../../core/uuids.ts";

/**
 * Where a page ended, for keyset pagination by (a timestamp, id) newest first: the last row's
 * time in microseconds since the epoch (a Date keeps only milliseconds, the column
 * microseconds) and its id. The token clients get is opaque to them.
 */
export interface Cursor {
  us: string;
  id: string;
}

export function pageTokenOf(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

export function cursorOf(token: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<Cursor>;
    if (
      typeof parsed.us === "string" &&
      /^-?\d{1,17}$/.test(parsed.us) &&
      typeof parsed.id === "string" &&
      isUuid(parsed.id)
    ) {
      return { us: parsed.us, id: parsed.id };
    }
  } catch {
    // falls through to the error below
  }
  throw new DomainError(ErrorCatalog.validation, "page_token is not one this service gave", {
    pointer: "/page_token",
  });
}
