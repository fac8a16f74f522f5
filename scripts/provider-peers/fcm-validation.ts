/** Why FCM would refuse a send request's body: the field at fault, where Google names one. */
export interface FcmProblem {
  field?: string;
  message: string;
}

type Json = Record<string, unknown>;

// Each object's fields as the v1 API knows them (snake_case, as firebase-admin writes them):
// Google refuses a field it does not know rather than ignore it.
const REQUEST_FIELDS = ["message", "validate_only"];
const MESSAGE_FIELDS = [
  "name",
  "data",
  "notification",
  "android",
  "webpush",
  "apns",
  "fcm_options",
  "token",
  "topic",
  "condition",
];
const NOTIFICATION_FIELDS = ["title", "body", "image"];
const ANDROID_FIELDS = [
  "collapse_key",
  "priority",
  "ttl",
  "restricted_package_name",
  "data",
  "notification",
  "fcm_options",
  "direct_boot_ok",
  "bandwidth_constrained_ok",
  "restricted_satellite_ok",
];
const ANDROID_NOTIFICATION_STRINGS = [
  "title",
  "body",
  "icon",
  "color",
  "sound",
  "tag",
  "click_action",
  "body_loc_key",
  "title_loc_key",
  "channel_id",
  "ticker",
  "image",
  "event_time",
  "notification_priority",
  "visibility",
  "proxy",
];
const ANDROID_NOTIFICATION_OTHERS = [
  "body_loc_args",
  "title_loc_args",
  "sticky",
  "local_only",
  "default_sound",
  "default_vibrate_timings",
  "default_light_settings",
  "vibrate_timings",
  "light_settings",
  "notification_count",
];
const APNS_FIELDS = ["headers", "payload", "fcm_options", "live_activity_token"];
// FCM's own data keys, and the prefixes it keeps for itself.
const RESERVED_DATA_KEYS = new Set(["from", "notification", "message_type"]);
const RESERVED_DATA_PREFIXES = ["google", "gcm"];
// A protobuf Duration in JSON: whole seconds with up to nine decimals, and "s".
const DURATION = /^(\d+)(\.\d{1,9})?s$/;
const MAX_TTL_SECONDS = 28 * 24 * 3600;
// Registration tokens are long runs of these; anything else is not one.
const REGISTRATION_TOKEN = /^[A-Za-z0-9_:-]{32,4096}$/;
const INT32_MAX = 2 ** 31 - 1;

/** Why FCM would refuse this body of `messages:send`, or undefined when it would take it. */
export function fcmMessageProblem(body: unknown): FcmProblem | undefined {
  if (!isObject(body)) return { message: "Invalid JSON payload received. Expected an object." };
  const unknown = unknownField(body, REQUEST_FIELDS, "");
  if (unknown) return unknown;
  if (body.validate_only !== undefined && typeof body.validate_only !== "boolean") {
    return invalidValue("validate_only", body.validate_only);
  }
  const { message } = body;
  if (!isObject(message)) return { field: "message", message: "Request contains an invalid argument." };
  return (
    unknownField(message, MESSAGE_FIELDS, "message") ??
    targetProblem(message) ??
    stringMapProblem(message.data, "message.data", true) ??
    objectProblem(message.notification, "message.notification", (notification) =>
      first(
        unknownField(notification, NOTIFICATION_FIELDS, "message.notification"),
        ...NOTIFICATION_FIELDS.map((field) =>
          stringProblem(notification[field], `message.notification.${field}`),
        ),
      ),
    ) ??
    objectProblem(message.android, "message.android", androidProblem) ??
    objectProblem(message.apns, "message.apns", apnsProblem) ??
    objectProblem(message.webpush, "message.webpush", () => undefined) ??
    objectProblem(message.fcm_options, "message.fcm_options", () => undefined)
  );
}

function targetProblem(message: Json): FcmProblem | undefined {
  const targets = ["token", "topic", "condition"].filter((field) => message[field] !== undefined);
  if (targets.length !== 1) {
    return { message: "Exactly one of token, topic or condition must be given." };
  }
  if (message.token === undefined) {
    return { field: `message.${targets[0]}`, message: "The FCM peer sends to registration tokens only." };
  }
  if (typeof message.token !== "string" || !REGISTRATION_TOKEN.test(message.token)) {
    return { message: "The registration token is not a valid FCM registration token" };
  }
  return undefined;
}

function androidProblem(android: Json): FcmProblem | undefined {
  const { ttl, priority } = android;
  if (ttl !== undefined) {
    const match = typeof ttl === "string" ? DURATION.exec(ttl) : null;
    if (!match) return invalidValue("message.android.ttl", ttl, "google.protobuf.Duration");
    if (Number(match[1]) > MAX_TTL_SECONDS) {
      return { field: "message.android.ttl", message: "The TTL is longer than four weeks." };
    }
  }
  if (priority !== undefined && !(typeof priority === "string" && /^(normal|high)$/i.test(priority))) {
    return invalidValue(
      "message.android.priority",
      priority,
      "google.firebase.fcm.v1.AndroidMessagePriority",
    );
  }
  return first(
    unknownField(android, ANDROID_FIELDS, "message.android"),
    stringProblem(android.collapse_key, "message.android.collapse_key"),
    stringProblem(android.restricted_package_name, "message.android.restricted_package_name"),
    stringMapProblem(android.data, "message.android.data", true),
    objectProblem(android.notification, "message.android.notification", (notification) =>
      first(
        unknownField(
          notification,
          [...ANDROID_NOTIFICATION_STRINGS, ...ANDROID_NOTIFICATION_OTHERS],
          "message.android.notification",
        ),
        ...ANDROID_NOTIFICATION_STRINGS.map((field) =>
          stringProblem(notification[field], `message.android.notification.${field}`),
        ),
        countProblem(notification.notification_count, "message.android.notification.notification_count"),
      ),
    ),
  );
}

function apnsProblem(apns: Json): FcmProblem | undefined {
  const headers = apns.headers;
  const headerProblem = stringMapProblem(headers, "message.apns.headers", false);
  if (headerProblem) return headerProblem;
  if (isObject(headers)) {
    const priority = headers["apns-priority"];
    if (priority !== undefined && !["1", "5", "10"].includes(String(priority))) {
      return { field: "message.apns.headers", message: "apns-priority is 1, 5 or 10." };
    }
    const expiration = headers["apns-expiration"];
    if (expiration !== undefined && !/^\d{1,10}$/.test(String(expiration))) {
      return { field: "message.apns.headers", message: "apns-expiration is a UNIX time in seconds." };
    }
    const collapseId = headers["apns-collapse-id"];
    if (collapseId !== undefined && Buffer.byteLength(String(collapseId)) > 64) {
      return { field: "message.apns.headers", message: "apns-collapse-id is at most 64 bytes." };
    }
  }
  return first(
    unknownField(apns, APNS_FIELDS, "message.apns"),
    objectProblem(apns.payload, "message.apns.payload", (payload) =>
      objectProblem(payload.aps, "message.apns.payload.aps", (aps) =>
        first(
          countProblem(aps.badge, "message.apns.payload.aps.badge"),
          stringProblem(aps["thread-id"], "message.apns.payload.aps.thread-id"),
          aps.sound === undefined || typeof aps.sound === "string" || isObject(aps.sound)
            ? undefined
            : invalidValue("message.apns.payload.aps.sound", aps.sound),
        ),
      ),
    ),
  );
}

function stringMapProblem(value: unknown, field: string, isData: boolean): FcmProblem | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) return invalidValue(field, value, "map<string, string>");
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== "string") return invalidValue(`${field}[${JSON.stringify(key)}]`, entry, "string");
    const lower = key.toLowerCase();
    if (
      isData &&
      (RESERVED_DATA_KEYS.has(lower) || RESERVED_DATA_PREFIXES.some((prefix) => lower.startsWith(prefix)))
    ) {
      return { field, message: `Invalid data payload key: ${key}` };
    }
  }
  return undefined;
}

function objectProblem(
  value: unknown,
  field: string,
  check: (object: Json) => FcmProblem | undefined,
): FcmProblem | undefined {
  if (value === undefined) return undefined;
  return isObject(value) ? check(value) : invalidValue(field, value);
}

function stringProblem(value: unknown, field: string): FcmProblem | undefined {
  return value === undefined || typeof value === "string" ? undefined : invalidValue(field, value, "string");
}

function countProblem(value: unknown, field: string): FcmProblem | undefined {
  if (value === undefined) return undefined;
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= INT32_MAX
    ? undefined
    : invalidValue(field, value, "int32");
}

function unknownField(object: Json, known: readonly string[], at: string): FcmProblem | undefined {
  const name = Object.keys(object).find((key) => !known.includes(key));
  if (name === undefined) return undefined;
  return {
    field: at ? `${at}.${name}` : name,
    message: `Invalid JSON payload received. Unknown name "${name}"${at ? ` at '${at}'` : ""}: Cannot find field.`,
  };
}

function invalidValue(field: string, value: unknown, type?: string): FcmProblem {
  return {
    field,
    message: `Invalid value at '${field}'${type ? ` (${type})` : ""}, ${JSON.stringify(value)}`,
  };
}

function first(...problems: (FcmProblem | undefined)[]): FcmProblem | undefined {
  return problems.find((problem) => problem !== undefined);
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
