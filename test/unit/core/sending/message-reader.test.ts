import { describe, expect, it } from "vitest";
import type { Caller, Role } from "../../../../core/caller.ts";
import { DomainError } from "../../../../core/errors.ts";
import {
  type LoggedMessage,
  type MessageFilter,
  MessageReader,
  maskRecipient,
  recipientView,
} from "../../../../core/sending/index.ts";

const caller = (subject: string, ...roles: Role[]): Caller => ({ subject, roles, via: "jwt" });

const MESSAGE: LoggedMessage = {
  id: "m-1",
  requestId: "r-1",
  correlationId: "",
  userId: "u-1",
  templateId: "",
  templateName: "",
  templateVersion: 0,
  campaignId: "",
  campaignVariant: "",
  channel: "email",
  recipient: "ivan@example.com",
  priority: "normal",
  status: "queued",
  statusDetails: "",
  providerName: "",
  attempts: 0,
  lastError: "",
  requestedAt: new Date(0),
  sentAt: null,
  deliveredAt: null,
  openedAt: null,
  clickedAt: null,
  updatedAt: new Date(0),
  opens: 0,
  clicks: 0,
  machineOpens: 0,
  machineClicks: 0,
};

describe("maskRecipient", () => {
  it("keeps an email's first character and its domain", () => {
    expect(maskRecipient("email", "Ivan.Petrov@Example.com")).toBe("I…@Example.com");
    expect(maskRecipient("email", "ivy@example.com")).toBe("…@example.com");
    expect(maskRecipient("email", "not an address")).toBe("…");
  });

  it("keeps a phone's first 2 and last 2 characters, a token's first 4 and last 4", () => {
    expect(maskRecipient("sms", "+79123456789")).toBe("+7…89");
    expect(maskRecipient("sms", "+7912345")).toBe("…");
    expect(maskRecipient("push_fcm", "fcm_0123456789abcdef")).toBe("fcm_…cdef");
    expect(maskRecipient("push_apns", "short-token")).toBe("…");
  });

  it("leaves an in-app message's empty recipient empty", () => {
    expect(maskRecipient("in_app", "")).toBe("");
  });
});

describe("recipientView", () => {
  it("shows the recipient in full to an admin and to the user themself only", () => {
    const seen = (who: Caller) => recipientView(who, "u-1")("sms", "+79123456789");
    expect(seen(caller("a-1", "admin"))).toBe("+79123456789");
    expect(seen(caller("u-1", "user"))).toBe("+79123456789");
    expect(seen(caller("u-2", "user"))).toBe("+7…89");
    expect(seen(caller("s-1", "support"))).toBe("+7…89");
    expect(seen(caller("order-service", "service"))).toBe("+7…89");
    // An anonymous subject owns no message, not even one without a user.
    expect(recipientView(caller("", "user"), "")("sms", "+79123456789")).toBe("+7…89");
  });
});

describe("MessageReader", () => {
  const listed: MessageFilter[] = [];
  const reader = new MessageReader({
    get: async (id) => (id === MESSAGE.id ? MESSAGE : undefined),
    list: async (filter) => {
      listed.push(filter);
      return { messages: [], nextPageToken: "" };
    },
  });

  it("answers NOT_FOUND alike for an unknown message and another user's", async () => {
    await expect(reader.get("m-1", caller("u-1", "user"))).resolves.toBe(MESSAGE);
    await expect(reader.get("m-1", caller("s-1", "support"))).resolves.toBe(MESSAGE);
    for (const [id, who] of [
      ["m-2", caller("a-1", "admin")],
      ["m-1", caller("u-2", "user")],
    ] as const) {
      const refusal = await reader.get(id, who).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(DomainError);
      expect((refusal as DomainError).entry.code).toBe("NOT_FOUND");
    }
  });

  it("lists for a user only their own messages", async () => {
    await reader.list({ userId: "u-1", pageSize: 10 }, caller("u-1", "user"));
    await reader.list({ pageSize: 10 }, caller("order-service", "service"));
    expect(listed).toHaveLength(2);
    for (const filter of [{ pageSize: 10 }, { userId: "u-2", pageSize: 10 }]) {
      const refusal = await reader.list(filter, caller("u-1", "user")).catch((error: unknown) => error);
      expect((refusal as DomainError).entry.code).toBe("PERMISSION_DENIED");
    }
    expect(listed).toHaveLength(2);
  });
});
