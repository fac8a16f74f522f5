import { createHash } from "node:crypto";

// Fields that hold a recipient's address, phone, device token, credentials or a
// message body (ФЗ-152): they never reach a log in clear. Compared lower-cased.
const PERSONAL_FIELDS = new Set([
  "email",
  "emailto",
  "phone",
  "phoneto",
  "token",
  "devicetoken",
  "devicetokens",
  "recipient",
  "recipientaddress",
  "recipient_address",
  "address",
  "to",
  "body",
  "bodyhtml",
  "body_html",
  "text",
  "html",
  "subject",
  "payloadvariables",
  "payload_variables",
  "authorization",
  "password",
  "apikey",
  "api_key",
  "secret",
  "cookie",
]);

// Addresses and phone numbers can also hide inside free text (an error message
// from a provider, say), so strings are scanned too.
const EMAIL_PATTERN = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu;
const PHONE_PATTERN = /\+?\d[\d\s().-]{8,}\d/g;

// A database error quotes the offending value after a colon (PostgreSQL: `invalid input
// syntax for type uuid: "…"`), while identifiers it quotes follow a word (`constraint "…"`).
const QUOTED_VALUE = /: "([^"]*)"/g;

const MAX_DEPTH = 8;

/**
 * A short, stable fingerprint of a personal value: the same address always gives
 * the same fingerprint, so logs can still be correlated without disclosing it.
 */
export function fingerprint(value: string): string {
  return `pd:${createHash("sha256").update(value).digest("hex").slice(0, 12)}`;
}

export function redactText(text: string): string {
  return text.replace(EMAIL_PATTERN, fingerprint).replace(PHONE_PATTERN, fingerprint);
}

/** A copy of `value` in which every personal field and every address or phone in text is replaced. */
export function redactPersonalData(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (Array.isArray(value)) return value.map((item) => redactPersonalData(item, depth + 1));
  if (value instanceof Error) {
    // Only name, message and stack: drivers attach the failing row as extra fields (pg's `detail`).
    return {
      type: value.name,
      message: redactErrorText(value.message),
      stack: value.stack && redactErrorText(value.stack),
    };
  }
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    copy[key] = PERSONAL_FIELDS.has(key.toLowerCase())
      ? redactField(field)
      : redactPersonalData(field, depth + 1);
  }
  return copy;
}

function redactErrorText(text: string): string {
  return redactText(text).replace(QUOTED_VALUE, (_, quoted: string) => `: "${fingerprint(quoted)}"`);
}

function redactField(field: unknown): string {
  if (typeof field === "string") return fingerprint(field);
  return "[redacted]";
}
