import { describe, expect, it } from "vitest";
import { MESSAGE_STATUSES, statusesBefore } from "../../../core/sending/index.ts";

describe("message status order", () => {
  it("lets a message move forward, skip stages reported late, and stay once it never left", () => {
    expect(statusesBefore("sent")).toEqual(["queued"]);
    expect(statusesBefore("clicked")).toEqual(["queued", "sent", "delivered", "opened"]);
    // A reader can be quicker than the record of the send.
    expect(statusesBefore("opened")).toContain("queued");
    expect(statusesBefore("failed")).toContain("sent");
    for (const ended of ["suppressed", "expired", "cancelled", "clicked"] as const) {
      const after = MESSAGE_STATUSES.filter((status) => statusesBefore(status).includes(ended));
      expect({ ended, after }).toEqual({ ended, after: [] });
    }
    for (const status of MESSAGE_STATUSES) expect(statusesBefore(status)).not.toContain(status);
  });
});
