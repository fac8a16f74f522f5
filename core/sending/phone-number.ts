// Separators people write inside a number: "+7 (999) 123-45-67", "8.999.123.45.67".
const SEPARATORS = /[\s().-]/g;
// E.164: at most 15 digits with the country code; 8 is the shortest any country uses.
const MIN_DIGITS = 8;
const MAX_DIGITS = 15;

/**
 * `input` as E.164 with its "+", or what is wrong with it (never the number itself: the
 * answer may be logged). Without a "+" a number is taken as Russian, as people here write
 * them: 8 999 123-45-67, 7 999 123-45-67 or 999 123-45-67 all become +79991234567. A number
 * of any other country needs its "+" and country code.
 */
export function normalizePhone(input: string): { e164: string } | { error: string } {
  const compact = input.replace(SEPARATORS, "");
  if (compact === "") return { error: "the phone number is empty" };
  const international = compact.startsWith("+");
  const digits = international ? compact.slice(1) : compact;
  if (!/^\d+$/.test(digits)) {
    return {
      error:
        'a phone number holds digits, one leading "+", and spaces, dashes, dots or parentheses between them',
    };
  }
  if (international) {
    if (digits.startsWith("0")) return { error: "a country code never starts with 0" };
    if (digits.length < MIN_DIGITS || digits.length > MAX_DIGITS) {
      return {
        error: `an international number has ${MIN_DIGITS} to ${MAX_DIGITS} digits, got ${digits.length}`,
      };
    }
    // +7 is Russia and Kazakhstan, both with ten digits after the country code.
    if (digits.startsWith("7") && digits.length !== 11) {
      return { error: `a +7 number has 10 digits after the 7, got ${digits.length - 1}` };
    }
    return { e164: `+${digits}` };
  }
  if (digits.length === 11 && (digits.startsWith("8") || digits.startsWith("7"))) {
    return { e164: `+7${digits.slice(1)}` };
  }
  if (digits.length === 10 && !digits.startsWith("0")) return { e164: `+7${digits}` };
  return {
    error: `without "+" a number is Russian (10 digits, or 11 starting with 8 or 7), got ${digits.length} digits; other countries need "+" and their code`,
  };
}
