import { HttpError } from "./peer-http.ts";

/** An email/send.json `message` as the peer takes it, in the API's own names. */
export interface UnisenderGoSendMessage {
  recipients: UnisenderGoRecipient[];
  subject: string;
  from_email: string;
  from_name?: string;
  reply_to?: string;
  reply_to_name?: string;
  body: { html?: string; plaintext?: string; amp?: string };
  headers?: Record<string, string>;
  global_metadata?: Metadata;
  tags?: string[];
  global_language?: string;
  idempotence_key?: string;
  track_links?: 0 | 1;
  track_read?: 0 | 1;
  skip_unsubscribe?: 0 | 1;
}

export interface UnisenderGoRecipient {
  email: string;
  metadata?: Metadata;
  substitutions?: Record<string, unknown>;
}

type Metadata = Record<string, string | number>;

// The limits of the API reference: 500 recipients, 10 metadata fields of 64-character names and
// 1024-character values, 50 headers, 4 tags of 50 characters, a 64-character idempotence key.
const MAX_RECIPIENTS = 500;
const MAX_METADATA_FIELDS = 10;
const MAX_METADATA_NAME = 64;
const MAX_METADATA_VALUE = 1024;
const MAX_HEADERS = 50;
const MAX_TAGS = 4;
const MAX_TAG_LENGTH = 50;
const MAX_IDEMPOTENCE_KEY = 64;
// Headers besides X-…: what the API sets itself (From, Subject, Reply-To, Message-ID…) it
// refuses. This list is the peer's reading of the reference, where it is not explicit.
const OTHER_HEADERS = new Set([
  "list-unsubscribe",
  "list-unsubscribe-post",
  "in-reply-to",
  "references",
  "to",
  "cc",
]);
const HEADER_NAME = /^[!-9;-~]+$/;
const FIELDS = new Set([
  "recipients",
  "subject",
  "from_email",
  "from_name",
  "reply_to",
  "reply_to_name",
  "body",
  "headers",
  "global_metadata",
  "tags",
  "global_language",
  "idempotence_key",
  "track_links",
  "track_read",
  "skip_unsubscribe",
]);
const ADDRESS = /^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$/;

/**
 * The request's `message`, checked as the API checks it: what is missing, malformed or too
 * large is answered 400 with what is wrong. A recipient's address that is not one is no error
 * of the request: it comes back in failed_emails as invalid. Unlike the API, fields it does not
 * know are refused too, so that a misspelt option fails a test instead of doing nothing.
 */
export function validSendRequest(body: unknown): UnisenderGoSendMessage {
  if (!isRecord(body) || !isRecord(body.message)) throw invalid("the request has no message object");
  const message = body.message;
  const unknown = Object.keys(message).filter((field) => !FIELDS.has(field));
  if (unknown.length > 0) throw invalid(`the peer does not know message.${unknown.join(", message.")}`);

  const { recipients } = message;
  if (!Array.isArray(recipients) || recipients.length === 0) throw invalid("message.recipients is empty");
  if (recipients.length > MAX_RECIPIENTS) throw invalid(`message.recipients holds over ${MAX_RECIPIENTS}`);
  const checkedRecipients = recipients.map((recipient, index) => {
    if (!isRecord(recipient) || typeof recipient.email !== "string" || recipient.email === "") {
      throw invalid(`message.recipients[${index}].email is missing`);
    }
    const { email, metadata, substitutions } = recipient;
    if (substitutions !== undefined && !isRecord(substitutions)) {
      throw invalid(`message.recipients[${index}].substitutions is not an object`);
    }
    return {
      email,
      ...(metadata === undefined
        ? {}
        : { metadata: checkedMetadata(metadata, `recipients[${index}].metadata`) }),
      ...(substitutions === undefined ? {} : { substitutions }),
    };
  });

  if (typeof message.subject !== "string" || message.subject.trim() === "")
    throw invalid("message.subject is empty");
  if (typeof message.from_email !== "string" || !ADDRESS.test(message.from_email)) {
    throw invalid("message.from_email is not an address");
  }
  if (
    message.reply_to !== undefined &&
    (typeof message.reply_to !== "string" || !ADDRESS.test(message.reply_to))
  ) {
    throw invalid("message.reply_to is not an address");
  }
  for (const field of ["from_name", "reply_to_name", "global_language"] as const) {
    if (message[field] !== undefined && typeof message[field] !== "string")
      throw invalid(`message.${field} is not text`);
  }

  const { body: parts } = message;
  if (!isRecord(parts)) throw invalid("message.body is missing");
  for (const part of ["html", "plaintext", "amp"] as const) {
    if (parts[part] !== undefined && typeof parts[part] !== "string")
      throw invalid(`message.body.${part} is not text`);
  }
  if (!parts.html && !parts.plaintext) throw invalid("message.body has neither html nor plaintext");

  const { tags } = message;
  if (
    tags !== undefined &&
    !(
      Array.isArray(tags) &&
      tags.length <= MAX_TAGS &&
      tags.every((tag) => typeof tag === "string" && tag.length <= MAX_TAG_LENGTH)
    )
  ) {
    throw invalid(`message.tags is at most ${MAX_TAGS} texts of ${MAX_TAG_LENGTH} characters`);
  }
  const key = message.idempotence_key;
  if (
    key !== undefined &&
    !(typeof key === "string" && key.length >= 1 && key.length <= MAX_IDEMPOTENCE_KEY)
  ) {
    throw invalid(`message.idempotence_key is a text of 1 to ${MAX_IDEMPOTENCE_KEY} characters`);
  }
  for (const flag of ["track_links", "track_read", "skip_unsubscribe"] as const) {
    if (message[flag] !== undefined && message[flag] !== 0 && message[flag] !== 1) {
      throw invalid(`message.${flag} is 0 or 1`);
    }
  }

  return {
    ...(message as Omit<UnisenderGoSendMessage, "recipients" | "headers" | "global_metadata">),
    recipients: checkedRecipients,
    ...(message.headers === undefined ? {} : { headers: checkedHeaders(message.headers) }),
    ...(message.global_metadata === undefined
      ? {}
      : { global_metadata: checkedMetadata(message.global_metadata, "global_metadata") }),
  };
}

function checkedMetadata(value: unknown, field: string): Metadata {
  if (!isRecord(value)) throw invalid(`message.${field} is not an object`);
  const entries = Object.entries(value);
  if (entries.length > MAX_METADATA_FIELDS)
    throw invalid(`message.${field} holds over ${MAX_METADATA_FIELDS} fields`);
  for (const [name, item] of entries) {
    if (name.length > MAX_METADATA_NAME)
      throw invalid(`message.${field} has a name over ${MAX_METADATA_NAME} characters`);
    if (!(typeof item === "string" || typeof item === "number") || String(item).length > MAX_METADATA_VALUE) {
      throw invalid(
        `message.${field}.${name} is not a text or number of at most ${MAX_METADATA_VALUE} characters`,
      );
    }
  }
  return value as Metadata;
}

function checkedHeaders(value: unknown): Record<string, string> {
  if (!isRecord(value)) throw invalid("message.headers is not an object");
  const entries = Object.entries(value);
  if (entries.length > MAX_HEADERS) throw invalid(`message.headers holds over ${MAX_HEADERS}`);
  for (const [name, item] of entries) {
    if (!HEADER_NAME.test(name) || !(/^x-/i.test(name) || OTHER_HEADERS.has(name.toLowerCase()))) {
      throw invalid(`message.headers may not set ${name}`);
    }
    if (typeof item !== "string" || /[\r\n]/.test(item)) {
      throw invalid(`message.headers.${name} is not one line of text`);
    }
  }
  return value as Record<string, string>;
}

function invalid(message: string): HttpError {
  return new HttpError(400, message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
