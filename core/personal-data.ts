import { createHash } from "node:crypto";
import type { Caller } from "./caller.ts";

// Fields that hold a recipient's address, phone, device token, credentials or a
// message body (ФЗ-152): they never reach a log in clear. Keys are compared normalised
// (lower case, without "_" and "-"), so `email_to`, `emailTo` and `EMAIL-TO` are one name.
const PERSONAL_FIELDS = new Set([
  "email",
  "emails",
  "emailto",
  "phone",
  "phones",
  "phoneto",
  "phonenumber",
  "msisdn",
  "token",
  "tokens",
  "devicetoken",
  "devicetokens",
  "pushtoken",
  "registrationtoken",
  "accesstoken",
  "refreshtoken",
  "address",
  "to",
  "cc",
  "bcc",
  "body",
  "bodyhtml",
  "bodytext",
  "text",
  "html",
  "subject",
  "payloadvariables",
  "variables",
  "authorization",
  "password",
  "apikey",
  "xapikey",
  "secret",
  "cookie",
  "setcookie",
]);

// Every `recipient…` field is personal (recipientEmail, recipient_phone, recipientAddress…),
// except these, which hold ids or a list to look into.
const RECIPIENT_FIELDS_KEPT = new Set([
  "recipients",
  "recipientid",
  "recipientids",
  "recipientuserid",
  "recipientcount",
]);

function normalisedKey(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, "");
}

/** Whether a field of this name holds personal data, in any proto or JSON spelling. */
export function isPersonalField(key: string): boolean {
  const name = normalisedKey(key);
  return PERSONAL_FIELDS.has(name) || (name.startsWith("recipient") && !RECIPIENT_FIELDS_KEPT.has(name));
}

// Addresses, phone numbers and tokens can also hide inside free text (an error message
// from a provider or a driver, say), so strings are scanned too. Each pattern is anchored
// on what the value looks like, so dates, times, UUIDs and IP addresses stay readable.
const EMAIL_PATTERN = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu;
const TEXT_PATTERNS: RegExp[] = [
  // JWTs: base64url header starting `{"`, payload and (maybe empty) signature.
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  // Our API keys.
  /\bnsk_[A-Za-z0-9_-]{8,}/g,
  // FCM registration tokens: a long run of [A-Za-z0-9_:-].
  /[A-Za-z0-9_:-]{140,}/g,
  // APNs device tokens: 64 hex digits.
  /(?<![0-9A-Za-z])[0-9A-Fa-f]{64}(?![0-9A-Za-z])/g,
  EMAIL_PATTERN,
  // A phone written with its country code: "+", then 10 to 15 digits with spaces, dots,
  // dashes or brackets between them (+7 (912) 345-67-89, +79123456789, +44 20 7946 0958).
  /(?<![\w+])\+\d(?:[\s().-]{0,2}\d){9,14}(?!\w)/g,
  // A Russian number without "+": 7 or 8, then 3-3-2-2 digits (89123456789, 8 (912) 345-67-89).
  // Not inside a longer run of digits, dots, colons or dashes (a date, a time, an IP address).
  /(?<!\w|\d[.:-])[78][\s-]?\(?\d{3}\)?[\s-]?\d{3}[\s-]?\d{2}[\s-]?\d{2}(?!\w|[.:-]\d)/g,
];

// A database error quotes the offending value after a colon (PostgreSQL: `invalid input
// syntax for type uuid: "…"`), while identifiers it quotes follow a word (`constraint "…"`).
const QUOTED_VALUE = /: "([^"]*)"/g;
// SQL literals, as a failed query's text or an ORM's dump of an entity shows them:
// `values ('…', '…')`. Not an apostrophe inside a word ("the token's", "isn't").
const SQL_LITERAL = /(?<!\w)'((?:[^']|'')*)'(?!\w)/g;
// pg's details, which MikroORM appends to its exceptions' messages: `Key (token)=(…)` of a
// unique violation and `Failing row contains (…)` of a not-null or check violation.
const KEY_VALUE = /\(([^()]*)\)=\(([^()]*)\)/g;
const FAILING_ROW = /Failing row contains \((.*)\)/g;

const MAX_DEPTH = 8;

/**
 * A short, stable fingerprint of a personal value: the same address always gives
 * the same fingerprint, so logs can still be correlated without disclosing it.
 */
export function fingerprint(value: string): string {
  return `pd:${createHash("sha256").update(value).digest("hex").slice(0, 12)}`;
}

/** `text` with every address, phone number and token-shaped string replaced by its fingerprint. */
export function redactText(text: string): string {
  return TEXT_PATTERNS.reduce((current, pattern) => current.replace(pattern, fingerprint), text);
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
    copy[key] = isPersonalField(key) ? redactField(field) : redactPersonalData(field, depth + 1);
  }
  return copy;
}

// A URL's password, as a connection error may print its URL.
const URL_PASSWORD = /\/\/([^:/@\s]+):[^@/\s]*@/g;

/** An error's text with personal values, the values drivers quote and URL passwords hidden. */
export function redactErrorText(text: string): string {
  return redactText(text)
    .replace(URL_PASSWORD, "//$1:***@")
    .replace(QUOTED_VALUE, (_, quoted: string) => `: "${fingerprint(quoted)}"`)
    .replace(SQL_LITERAL, (_, literal: string) => `'${fingerprint(literal)}'`)
    .replace(KEY_VALUE, (_, key: string, value: string) => `(${key})=(${fingerprint(value)})`)
    .replace(FAILING_ROW, (_, row: string) => `Failing row contains (${fingerprint(row)})`);
}

/** A personal field: a string or a list of strings keeps fingerprints, anything else is gone. */
function redactField(field: unknown): string | string[] {
  if (typeof field === "string") return fingerprint(field);
  if (Array.isArray(field) && field.every((item) => typeof item === "string")) return field.map(fingerprint);
  return "[redacted]";
}

/**
 * What support staff see of an address, phone number or device token: the first 4 and
 * last 4 characters with "…" between them, or "…" alone for a value shorter than 16
 * characters, so at least half of it stays hidden.
 */
export function maskForSupport(value: string): string {
  const chars = [...value];
  if (chars.length < 16) return "…";
  return `${chars.slice(0, 4).join("")}…${chars.slice(-4).join("")}`;
}

/**
 * How `caller` sees the personal data of user `ownerId`: in full for an admin, a service
 * and the user themself; masked (maskForSupport) for everyone else, such as support.
 * Every answer carrying an address, phone or token passes its values through this.
 */
export function personalDataView(caller: Caller, ownerId: string): (value: string) => string {
  const inFull =
    caller.roles.includes("admin") ||
    caller.roles.includes("service") ||
    (caller.roles.includes("user") && caller.subject !== "" && caller.subject === ownerId);
  return inFull ? (value) => value : maskForSupport;
}
