import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Caller } from "../../../core/caller.ts";
import {
  fingerprint,
  maskForSupport,
  personalDataView,
  redactErrorText,
  redactPersonalData,
  redactText,
} from "../../../core/personal-data.ts";
import { createLogger } from "../../../server/logger.ts";

describe("redactPersonalData", () => {
  it("replaces personal fields at any depth with a stable fingerprint", () => {
    const redacted = redactPersonalData({
      requestId: "req-1",
      recipients: [{ userId: "u-1", emailTo: "ivan@example.com", phoneTo: "+79991234567" }],
      deviceTokens: [{ token: "fcm_token_xyz", platform: "android_fcm" }],
      body: "Ваш заказ готов",
    }) as Record<string, unknown>;
    expect(redacted.requestId).toBe("req-1");
    expect(redacted.recipients).toEqual([
      { userId: "u-1", emailTo: fingerprint("ivan@example.com"), phoneTo: fingerprint("+79991234567") },
    ]);
    expect(redacted.deviceTokens).toBe("[redacted]");
    expect(redacted.body).toBe(fingerprint("Ваш заказ готов"));
  });

  it("finds addresses and phone numbers inside free text", () => {
    const text = redactText("550 mailbox иван.петров@пример.рф unavailable, callback +7 (999) 123-45-67");
    expect(text).not.toContain("иван.петров");
    expect(text).not.toContain("123-45-67");
    expect(text).toContain("550 mailbox pd:");
  });

  it("knows a personal field in every proto and JSON spelling", () => {
    const spellings = [
      "email_to",
      "emailTo",
      "phone_to",
      "phoneTo",
      "PHONE-TO",
      "device_token",
      "deviceToken",
      "token",
      "recipient",
      "recipient_email",
      "recipientPhone",
      "recipientAddress",
      "recipient_device_token",
    ];
    for (const key of spellings) {
      expect(redactPersonalData({ [key]: "secret-value-1" }), key).toEqual({
        [key]: fingerprint("secret-value-1"),
      });
    }
    for (const key of ["device_tokens", "deviceTokens"]) {
      expect(redactPersonalData({ [key]: ["tok-a", "tok-b"] }), key).toEqual({
        [key]: [fingerprint("tok-a"), fingerprint("tok-b")],
      });
    }
    const kept = {
      userId: "u-1",
      recipientId: "r-1",
      recipients: [{ user_id: "u-2" }],
      token_fingerprint: "pd:1",
    };
    expect(redactPersonalData(kept)).toEqual(kept);
  });

  it("finds token-shaped strings in free text", () => {
    const fcm = `dXk1:APA91b${"Hq-7_x".repeat(25)}`;
    const apns = "a1b2c3d4".repeat(8);
    const jwt =
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEiLCJyb2xlcyI6WyJ1c2VyIl19.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";
    const apiKey = `nsk_${"0f".repeat(16)}_${"A1b2_-".repeat(7)}x`;
    for (const secret of [fcm, apns, jwt, apiKey]) {
      const text = redactText(`push refused for ${secret}, retrying`);
      expect(text, secret).toBe(`push refused for ${fingerprint(secret)}, retrying`);
    }
  });

  it("catches phone numbers as people write them", () => {
    for (const phone of [
      "+7 (912) 345-67-89",
      "+79123456789",
      "89123456789",
      "8 (912) 345-67-89",
      "8-912-345-67-89",
      "+7 912 345 67 89",
      "+44 20 7946 0958",
    ]) {
      expect(redactText(`call ${phone} now`), phone).toBe(`call ${fingerprint(phone)} now`);
    }
  });

  it("leaves dates, times, ids, IP addresses and counts readable", () => {
    for (const text of [
      "2026-12-01 10:22:33",
      "2026-12-01T10:22:33.123Z",
      "at 10:22:33.123 on 01.12.2026",
      "192.168.100.200",
      "10.0.0.1:5432",
      "6f1c1d2e-8a1b-4c3d-9e4f-5a6b7c8d9e01",
      "12345678-1234-4234-8234-123456789012",
      "78123456-7891-4234-8234-123456789012",
      "took 1500 ms on attempt 3 of 10, code 23505, port 8081",
      "pd:0123456789ab",
    ]) {
      expect(redactText(text)).toBe(text);
    }
  });

  it("hides SQL literals in error text, not the apostrophes of prose", () => {
    expect(redactErrorText("insert into t values ('fcm:abc', 'it''s')")).toBe(
      `insert into t values ('${fingerprint("fcm:abc")}', '${fingerprint("it''s")}')`,
    );
    const prose = "the token's issuer isn't accepted";
    expect(redactErrorText(prose)).toBe(prose);
  });

  it("hides a URL's password in error text, keeping the host and port", () => {
    expect(redactErrorText("cannot reach http://registry:s3cret@10.0.0.7:8081/config")).toBe(
      "cannot reach http://registry:***@10.0.0.7:8081/config",
    );
  });

  it("keeps ordinary values and the shape of errors", () => {
    const error = new Error("SMTP refused ivan@example.com");
    const redacted = redactPersonalData({ attempt: 3, ok: false, err: error }) as {
      err: { message: string };
    };
    expect(redacted).toMatchObject({ attempt: 3, ok: false, err: { type: "Error" } });
    expect(redacted.err.message).toBe(`SMTP refused ${fingerprint("ivan@example.com")}`);
  });

  it("hides the value a database error quotes, keeps the identifiers, and drops driver fields", () => {
    const error = Object.assign(
      new Error('invalid input syntax for type uuid: "fcm-token-secret" in constraint "uq_x"'),
      {
        detail: "Key (token)=(fcm-token-secret) already exists.",
      },
    );
    const redacted = JSON.stringify(redactPersonalData({ err: error }));
    expect(redacted).not.toContain("fcm-token-secret");
    expect(redacted).toContain('constraint \\"uq_x\\"');
    expect(redacted).toContain(`: \\"${fingerprint("fcm-token-secret")}\\"`);
  });
});

describe("personal data in answers", () => {
  it("masks a value for support: first 4 and last 4 characters, or all of a short one", () => {
    expect(maskForSupport("fcm_0123456789abcdef")).toBe("fcm_…cdef");
    expect(maskForSupport("ivan.petrov@example.com")).toBe("ivan….com");
    expect(maskForSupport("short-token-15c")).toBe("…");
    expect(maskForSupport("")).toBe("…");
  });

  it("shows admins, services and the user themself the value in full, everyone else masked", () => {
    const owner = "6f1c1d2e-8a1b-4c3d-9e4f-5a6b7c8d9e01";
    const token = "dXk1:APA91bHq-7_xHq-7_x";
    const as = (subject: string, roles: Caller["roles"]): Caller => ({ subject, roles, via: "jwt" });
    const cases: [Caller, string][] = [
      [as("admin-1", ["admin"]), token],
      [as("order-service", ["service"]), token],
      [as(owner, ["user"]), token],
      [as("support-1", ["support"]), "dXk1…-7_x"],
      [as("someone-else", ["user"]), maskForSupport(token)],
      [as(owner, ["support"]), maskForSupport(token)],
      [as("", ["user"]), maskForSupport(token)],
    ];
    for (const [caller, seen] of cases)
      expect(personalDataView(caller, owner)(token), caller.subject).toBe(seen);
  });
});

describe("the service logger", () => {
  it("writes JSON lines with no address, phone, token or body in clear", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger("info", sink);
    logger
      .child({ requestId: "r-9" })
      .info(
        { email: "anna@example.org", token: "apns-abc", body: "Секретный код 1234", channel: "email" },
        "sending to anna@example.org",
      );
    await new Promise((resolve) => setImmediate(resolve));
    const record = JSON.parse(lines.join("")) as Record<string, unknown>;
    expect(record).toMatchObject({ level: "info", requestId: "r-9", channel: "email" });
    const text = lines.join("");
    for (const secret of ["anna@example.org", "apns-abc", "Секретный код"])
      expect(text).not.toContain(secret);
  });
});
