import { describe, expect, it } from "vitest";
import { normalizePhone } from "../../../../core/sending/index.ts";

describe("normalizePhone", () => {
  it.each([
    ["+79991234567", "+79991234567"],
    ["+7 (999) 123-45-67", "+79991234567"],
    ["8 999 123-45-67", "+79991234567"],
    ["8(999)123-45-67", "+79991234567"],
    ["8.999.123.45.67", "+79991234567"],
    ["79991234567", "+79991234567"],
    ["7 999 123 45 67", "+79991234567"],
    ["9991234567", "+79991234567"],
    ["(999) 123-45-67", "+79991234567"],
    ["  +7 999 123 45 67\t", "+79991234567"],
    ["+44 20 7946 0958", "+442079460958"],
    ["+1 (415) 555-2671", "+14155552671"],
    ["+49 30 1234567", "+49301234567"],
    ["+380 44 123 4567", "+380441234567"],
  ])("%j is %s", (input, e164) => {
    expect(normalizePhone(input)).toEqual({ e164 });
  });

  it.each([
    ["", /empty/],
    [" - ( ) ", /empty/],
    ["+7 999 123-45-6x", /digits, one leading "\+"/],
    ["8 999 123+45-67", /digits, one leading "\+"/],
    ["++79991234567", /digits, one leading "\+"/],
    ["tel:+79991234567", /digits, one leading "\+"/],
    ["+0 999 123 45 67", /country code never starts with 0/],
    ["+1234567", /8 to 15 digits, got 7/],
    ["+1234567890123456", /8 to 15 digits, got 16/],
    ["+7 999 123 45 6", /10 digits after the 7, got 9/],
    ["+7 999 123 45 678", /10 digits after the 7, got 11/],
    ["99912345", /Russian .* got 8 digits/],
    ["0991234567", /Russian .* got 10 digits/],
    ["99991234567", /Russian .* got 11 digits/],
    ["442079460958", /Russian .* got 12 digits/],
  ])("refuses %j", (input, message) => {
    const result = normalizePhone(input);
    expect(result).toEqual({ error: expect.stringMatching(message) });
  });

  it("never repeats the number in what it says is wrong", () => {
    for (const input of ["+7 999 123 45 678", "99991234567", "+7 999 123-45-6x", "+1234567890123456"]) {
      const result = normalizePhone(input);
      expect("error" in result && result.error).toBeTruthy();
      const digits = input.replace(/\D/g, "");
      expect(JSON.stringify(result)).not.toContain(digits.slice(0, 6));
    }
  });
});
