import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { fingerprint, redactPersonalData, redactText } from "../../../core/personal-data.ts";
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
