// How an SMS text travels (3GPP TS 23.038): GSM-7 when every character is in the default
// alphabet or its extension table, UCS-2 otherwise; and how many SMS it takes, which is what
// the operator bills.

export type SmsEncoding = "gsm7" | "ucs2";

export interface SmsTextMeasure {
  encoding: SmsEncoding;
  /** Septets for GSM-7 (an extension character takes two), UTF-16 code units for UCS-2. */
  units: number;
  /** SMS sent: one up to the single limit, otherwise parts that each carry a concatenation header. */
  segments: number;
}

// The default alphabet, less the escape (0x1B) that opens the extension table.
const GSM7_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
// Sent as the escape and a second septet.
const GSM7_EXTENSION = new Set("\f^{}\\[~]|€");

// The concatenation header (6 octets) leaves 153 septets or 67 UCS-2 characters of 160 / 70.
const LIMITS: Record<SmsEncoding, { single: number; part: number }> = {
  gsm7: { single: 160, part: 153 },
  ucs2: { single: 70, part: 67 },
};

/** The encoding of `text`, its length in that encoding's units and the SMS it takes. */
export function measureSmsText(text: string): SmsTextMeasure {
  const characters = [...text];
  const septets = characters.map(gsm7Septets);
  const encoding: SmsEncoding = septets.every((cost) => cost > 0) ? "gsm7" : "ucs2";
  // Outside the Basic Multilingual Plane (emoji) a character is a surrogate pair: two units.
  const costs = encoding === "gsm7" ? septets : characters.map((character) => character.length);
  const units = costs.reduce((sum, cost) => sum + cost, 0);
  const { single, part } = LIMITS[encoding];
  return { encoding, units, segments: units <= single ? 1 : partsOf(costs, part) };
}

/** 1 or 2 for a GSM-7 character, 0 for one GSM-7 cannot carry. */
function gsm7Septets(character: string): number {
  if (GSM7_BASIC.has(character)) return 1;
  return GSM7_EXTENSION.has(character) ? 2 : 0;
}

// Phones join the parts back by concatenation, so a character never straddles two: an escape
// and its septet, or the two halves of a surrogate pair, go into the same part. That can take
// one part more than the length divided by the part size.
function partsOf(costs: readonly number[], capacity: number): number {
  let parts = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > capacity) {
      parts++;
      used = 0;
    }
    used += cost;
  }
  return parts;
}
