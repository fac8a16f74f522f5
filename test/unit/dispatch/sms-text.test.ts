import { describe, expect, it } from "vitest";
import { measureSmsText } from "../../../dispatch/index.ts";

describe("measureSmsText", () => {
  it("carries Latin text, digits and the default alphabet's accents in GSM-7, a septet each", () => {
    expect(measureSmsText("Your code is 4821. Don't share it!")).toEqual({
      encoding: "gsm7",
      units: 34,
      segments: 1,
    });
    expect(measureSmsText("Café à Zürich: ÄÖÑÜ äöñü ¿¡ £$¥ @_ ΔΦΓΛΩΠΨΣΘΞ\r\n")).toMatchObject({
      encoding: "gsm7",
      units: 47,
    });
  });

  it("counts the extension table's characters as two septets", () => {
    expect(measureSmsText("€")).toEqual({ encoding: "gsm7", units: 2, segments: 1 });
    expect(measureSmsText("[^]")).toEqual({ encoding: "gsm7", units: 6, segments: 1 });
    expect(measureSmsText("{a|b}~\\\f")).toEqual({ encoding: "gsm7", units: 14, segments: 1 });
    // 80 euro signs are 160 septets: one SMS; one more character of either kind makes two.
    expect(measureSmsText("€".repeat(80))).toMatchObject({ units: 160, segments: 1 });
    expect(measureSmsText(`${"€".repeat(80)}a`)).toMatchObject({ units: 161, segments: 2 });
  });

  it("turns to UCS-2 for Cyrillic, counting UTF-16 units", () => {
    expect(measureSmsText("Ваш код: 4821")).toEqual({ encoding: "ucs2", units: 13, segments: 1 });
    // One character outside GSM-7 takes the whole text to UCS-2, the Latin with it.
    expect(measureSmsText(`${"a".repeat(100)}ж`)).toEqual({ encoding: "ucs2", units: 101, segments: 2 });
    // Characters that look alike are not alike: the Latin "ç" is not in the default alphabet.
    expect(measureSmsText("ç").encoding).toBe("ucs2");
  });

  it("counts an emoji as two UCS-2 units", () => {
    expect(measureSmsText("🙂")).toEqual({ encoding: "ucs2", units: 2, segments: 1 });
    expect(measureSmsText(`Спасибо! ${"🙂".repeat(3)}`)).toEqual({
      encoding: "ucs2",
      units: 15,
      segments: 1,
    });
  });

  it("fits 160 GSM-7 septets in one SMS and 161 in two", () => {
    expect(measureSmsText("a".repeat(160))).toEqual({ encoding: "gsm7", units: 160, segments: 1 });
    expect(measureSmsText("a".repeat(161))).toEqual({ encoding: "gsm7", units: 161, segments: 2 });
    expect(measureSmsText("a".repeat(306))).toMatchObject({ segments: 2 });
    expect(measureSmsText("a".repeat(307))).toMatchObject({ segments: 3 });
  });

  it("fits 70 UCS-2 units in one SMS and 71 in two", () => {
    expect(measureSmsText("ж".repeat(70))).toEqual({ encoding: "ucs2", units: 70, segments: 1 });
    expect(measureSmsText("ж".repeat(71))).toEqual({ encoding: "ucs2", units: 71, segments: 2 });
    expect(measureSmsText("ж".repeat(134))).toMatchObject({ segments: 2 });
    expect(measureSmsText("ж".repeat(135))).toMatchObject({ segments: 3 });
    expect(measureSmsText("🙂".repeat(35))).toMatchObject({ units: 70, segments: 1 });
    expect(measureSmsText(`${"🙂".repeat(35)}ж`)).toMatchObject({ units: 71, segments: 2 });
  });

  it("never splits an extension character or an emoji between two parts", () => {
    // 152 septets then "€": 154 septets in two parts of 153 would cut the euro in half.
    expect(measureSmsText(`${"a".repeat(152)}€${"a".repeat(152)}`)).toMatchObject({
      units: 306,
      segments: 3,
    });
    expect(measureSmsText(`${"a".repeat(151)}€${"a".repeat(153)}`)).toMatchObject({
      units: 306,
      segments: 2,
    });
    // 66 units then an emoji: a part holds 67 units, so the emoji starts the next part.
    expect(measureSmsText(`${"ж".repeat(66)}🙂${"ж".repeat(66)}`)).toMatchObject({ units: 134, segments: 3 });
    expect(measureSmsText(`${"ж".repeat(65)}🙂${"ж".repeat(67)}`)).toMatchObject({ units: 134, segments: 2 });
  });

  it("takes an empty text as one SMS", () => {
    expect(measureSmsText("")).toEqual({ encoding: "gsm7", units: 0, segments: 1 });
  });
});
