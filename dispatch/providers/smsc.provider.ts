import {
  type AwaitingReport,
  type DeliveryOutcome,
  normalizePhone,
  type ProviderReport,
} from "../../core/sending/index.ts";
import { cleanReason, HttpsFormClient, httpStatusFailure } from "./https-form-client.ts";
import { type SmsHttpOptions, SmsHttpProvider, type SmsToSend } from "./sms-provider-base.ts";

export interface SmscProviderOptions extends SmsHttpOptions {
  login: string;
  password: string;
  /** https://smsc.ru unless told otherwise (a test peer, or the backup https://www2.smsc.ru). */
  baseUrl?: string;
  /** A sender name (Sender ID) registered for the account; the account's default without it. */
  sender?: string;
}

/** Thrown by the status poller when SMSC gave no statuses; the worker polls again later. */
export class StatusPollError extends Error {
  /** At least this long before the next poll, when SMSC said so. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, retryAfterMs?: number) {
    super(message);
    this.name = "StatusPollError";
    this.retryAfterMs = retryAfterMs;
  }
}

interface SmscError {
  error?: unknown;
  error_code?: unknown;
}

interface SmscStatus extends SmscError {
  id?: unknown;
  phone?: unknown;
  status?: unknown;
  last_timestamp?: unknown;
  err?: unknown;
}

/** An SMSC message as its status call names it: its id and the number, which SMSC needs with it. */
interface SmscMessageRef {
  id: string;
  digits: string;
}

// SMSC takes an id of ours (up to 40 of these characters) and names the message by it.
const SMSC_ID = /^[A-Za-z0-9._-]{1,40}$/;
// The message life SMSC takes (valid), in minutes: up to 24 hours.
const VALID_MINUTES = { min: 1, max: 24 * 60 };
// SMSC refuses the same request twice within a minute, and status requests past its rate, with 9.
const FLOOD_WAIT_MS = 60_000;
// Statuses asked for in one request; SMSC allows one such request a minute.
const MAX_POLL_ITEMS = 500;

/**
 * SMS through SMSC.ru's HTTP API (`/sys/send.php`, JSON answers with fmt=3). The message goes
 * with our message id as SMSC's id, and providerMessageId is that id alone (SMSC's own when
 * ours is not one it takes): never the number, which the message log keeps sealed and the
 * status poller opens from there (ФЗ-152). SMSC keeps no key unique: the same request again
 * within a minute is refused (error 9) whether the first got through or not, so the provider
 * then asks SMSC for the message under our id and takes it as sent when it is there. A resend
 * past that minute, after an answer that was lost, reaches the phone twice.
 */
export class SmscProvider extends SmsHttpProvider {
  private readonly credentials: { login: string; psw: string };
  private readonly sender: string | undefined;

  constructor(options: SmscProviderOptions) {
    super(options, options.baseUrl ?? "https://smsc.ru");
    if (!(options.login && options.password))
      throw new Error(`${options.name}: SMSC needs a login and a password`);
    if (options.sender !== undefined && !options.sender.trim()) {
      throw new Error(`${options.name}: the sender name is empty; leave it out for the account's default`);
    }
    this.credentials = { login: options.login, psw: options.password };
    this.sender = options.sender;
  }

  protected async deliver({ message, e164, minutesLeft }: SmsToSend): Promise<DeliveryOutcome> {
    const digits = e164.slice(1);
    const form = new URLSearchParams({
      ...this.credentials,
      // With its "+", SMSC takes the number as it is rather than "correcting" it.
      phones: e164,
      mes: message.body,
      fmt: "3",
      charset: "utf-8",
    });
    if (this.sender !== undefined) form.set("sender", this.sender);
    const ourId = SMSC_ID.test(message.messageId) ? message.messageId : undefined;
    if (ourId) form.set("id", ourId);
    if (minutesLeft !== undefined) form.set("valid", hoursAndMinutes(minutesLeft));

    const answer = await this.http.post("/sys/send.php", form);
    if (!answer.ok) return { status: "failed", reason: answer.reason, retryable: true };
    const httpFailure = httpStatusFailure(answer);
    if (httpFailure) return httpFailure;
    let parsed: SmscError & { id?: unknown; cnt?: unknown };
    try {
      parsed = JSON.parse(answer.body) as typeof parsed;
    } catch {
      return { status: "failed", reason: "SMSC answered something other than JSON", retryable: true };
    }
    if (typeof parsed.error_code === "number") {
      if (parsed.error_code === 9 && ourId && (await this.alreadyThere({ id: ourId, digits }))) {
        return { status: "sent", providerMessageId: ourId };
      }
      return sendRefusal(parsed.error_code, parsed.error);
    }
    if ((typeof parsed.id === "number" || typeof parsed.id === "string") && typeof parsed.cnt === "number") {
      return { status: "sent", providerMessageId: String(parsed.id) };
    }
    return { status: "failed", reason: "SMSC answered neither an id nor an error", retryable: true };
  }

  /** Whether SMSC has the message under our id, from a send whose answer was lost. */
  private async alreadyThere(ref: SmscMessageRef): Promise<boolean> {
    const statuses = await requestStatuses(this.http, this.credentials, [ref]);
    const found = statuses.ok ? statuses.statuses.get(keyOf(ref)) : undefined;
    return found !== undefined && found.status !== -3;
  }
}

/**
 * Asks SMSC (`/sys/status.php`) what became of messages an SmscProvider sent, for the worker
 * to call periodically: one request for up to 500 messages, and no more than one a minute per
 * account, as SMSC allows. SMSC names a message by its id and number, so each comes with its
 * recipient opened from the message log; one whose recipient could not be opened, or is no
 * number, cannot be asked about and is left out. Every outcome it knows is reported each time
 * it is asked, so acting on a report twice must change nothing; messages still on their way
 * are left out.
 */
export class SmscStatusPoller {
  private readonly name: string;
  private readonly http: HttpsFormClient;
  private readonly credentials: { login: string; psw: string };

  /** With the options of the provider whose messages it asks about, whose name the reports carry. */
  constructor(options: SmscProviderOptions) {
    if (!options.name) throw new Error("an SMSC status poller needs its provider's name");
    if (!(options.login && options.password))
      throw new Error(`${options.name}: SMSC needs a login and a password`);
    this.name = options.name;
    this.credentials = { login: options.login, psw: options.password };
    this.http = new HttpsFormClient({
      name: options.name,
      baseUrl: options.baseUrl ?? "https://smsc.ru",
      ...(options.tls?.ca ? { ca: options.tls.ca } : {}),
      timeoutMs: options.timeoutMs ?? 10_000,
      maxConnections: 1,
    });
  }

  /** Rejects with a StatusPollError when SMSC gave no answer to go by. */
  async poll(items: readonly AwaitingReport[]): Promise<ProviderReport[]> {
    if (items.length > MAX_POLL_ITEMS) {
      throw new Error(`${this.name}: at most ${MAX_POLL_ITEMS} messages per poll, got ${items.length}`);
    }
    const asked = items.flatMap((item) => {
      const ref = refOf(item);
      return ref ? [{ ref, providerMessageId: item.providerMessageId }] : [];
    });
    if (asked.length === 0) return [];
    const refs = asked.map(({ ref }) => ref);
    const answer = await requestStatuses(this.http, this.credentials, refs);
    if (!answer.ok) throw new StatusPollError(`${this.name}: ${answer.reason}`, answer.retryAfterMs);
    const now = new Date();
    return asked.flatMap(({ ref, providerMessageId }) => {
      const status = answer.statuses.get(keyOf(ref));
      const report = status && reportOf(status, now);
      return report ? [{ provider: this.name, providerMessageId, ...report }] : [];
    });
  }

  close(): void {
    this.http.close();
  }
}

function hoursAndMinutes(minutesLeft: number): string {
  const minutes = Math.min(VALID_MINUTES.max, Math.max(VALID_MINUTES.min, minutesLeft));
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

function sendRefusal(code: number, description: unknown): DeliveryOutcome {
  const reason = cleanReason(`SMSC error ${code}${typeof description === "string" ? ` ${description}` : ""}`);
  switch (code) {
    // 6 the text or sender refused, 7 the number is not one, 8 SMSC cannot deliver to it:
    // about this message, no provider would do better.
    case 6:
    case 8:
      return { status: "failed", reason, retryable: false };
    case 7:
      return { status: "failed", reason, retryable: false, destinationGone: true };
    case 9:
      return { status: "failed", reason, retryable: true, retryAfterMs: FLOOD_WAIT_MS };
    // 1 parameters and 5 a date of ours it does not take, 2 our login, 3 our funds, 4 our IP
    // blocked for a while: about our account or our requests, every message alike, so
    // another provider may take them. Codes SMSC adds later are treated the same way.
    default:
      return { status: "failed", reason, retryable: true };
  }
}

type StatusAnswer =
  | { ok: true; statuses: Map<string, SmscStatus> }
  | { ok: false; reason: string; retryAfterMs?: number };

/** Statuses by `<id>:<digits>`, from one request in SMSC's list form (a trailing comma for one). */
async function requestStatuses(
  http: HttpsFormClient,
  credentials: { login: string; psw: string },
  refs: readonly SmscMessageRef[],
): Promise<StatusAnswer> {
  const list = (values: string[]) => (values.length === 1 ? `${values[0]},` : values.join(","));
  const form = new URLSearchParams({
    ...credentials,
    id: list(refs.map((ref) => ref.id)),
    phone: list(refs.map((ref) => `+${ref.digits}`)),
    fmt: "3",
    charset: "utf-8",
  });
  const answer = await http.post("/sys/status.php", form);
  if (!answer.ok) return answer;
  const httpFailure = httpStatusFailure(answer);
  if (httpFailure) return { ok: false, reason: httpFailure.reason, retryAfterMs: httpFailure.retryAfterMs };
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    return { ok: false, reason: "SMSC answered something other than JSON" };
  }
  if (!Array.isArray(parsed)) {
    const { error, error_code: code } = (parsed ?? {}) as SmscError;
    return {
      ok: false,
      reason: cleanReason(`SMSC error ${String(code)}${typeof error === "string" ? ` ${error}` : ""}`),
      ...(code === 9 ? { retryAfterMs: FLOOD_WAIT_MS } : {}),
    };
  }
  const statuses = new Map<string, SmscStatus>();
  parsed.forEach((entry: SmscStatus | null, index) => {
    if (typeof entry !== "object" || entry === null) return;
    // SMSC answers in the order asked; an entry naming its message is matched by name.
    const named =
      entry.id !== undefined && entry.phone !== undefined
        ? { id: String(entry.id), digits: String(entry.phone).replace(/\D/g, "") }
        : refs[index];
    if (named) statuses.set(keyOf(named), entry);
  });
  return { ok: true, statuses };
}

const DELIVERED_STATUSES = new Set([1, 2, 4]);
const FAILED_STATUSES: Record<number, { reason: string; permanent: boolean }> = {
  3: { reason: "expired", permanent: false },
  20: { reason: "undeliverable", permanent: false },
  // The number is not a number, or takes no SMS from anyone.
  22: { reason: "invalid number", permanent: true },
  23: { reason: "prohibited", permanent: false },
  24: { reason: "insufficient funds", permanent: false },
  25: { reason: "unavailable number", permanent: true },
};
// The operator's error with status 20: the subscriber does not exist.
const NO_SUCH_SUBSCRIBER = 1;

/**
 * 1 delivered, 2 read, 4 a link in it clicked → delivered; 3, 20 (for good when the operator
 * says there is no such subscriber), 22, 23, 24, 25 → failed; -3 not found, -2 stopped, -1
 * waiting and 0 passed to the operator are no outcome yet.
 */
function reportOf(
  entry: SmscStatus,
  now: Date,
):
  | (({ kind: "delivered" } | { kind: "failed"; reason: string; permanent: boolean }) & { at: Date })
  | undefined {
  if (typeof entry.status !== "number") return undefined;
  const at =
    typeof entry.last_timestamp === "number" && entry.last_timestamp > 0
      ? new Date(entry.last_timestamp * 1000)
      : now;
  if (DELIVERED_STATUSES.has(entry.status)) return { kind: "delivered", at };
  const failed = FAILED_STATUSES[entry.status];
  if (!failed) return undefined;
  const err = typeof entry.err === "number" && entry.err !== 0 ? entry.err : undefined;
  return {
    kind: "failed",
    reason: `SMSC ${entry.status}: ${failed.reason}${err === undefined ? "" : ` (operator error ${err})`}`,
    permanent: failed.permanent || (entry.status === 20 && err === NO_SUCH_SUBSCRIBER),
    at,
  };
}

function keyOf(ref: SmscMessageRef): string {
  return `${ref.id}:${ref.digits}`;
}

/**
 * How SMSC's status call names a message awaiting its report, or undefined when it cannot:
 * its recipient not opened or no number, or its id none SMSC gives. Messages sent before the
 * id stopped carrying the number have `<id>:<digits>`; SMSC knows them by the id.
 */
function refOf({ providerMessageId, recipient }: AwaitingReport): SmscMessageRef | undefined {
  if (recipient === null) return undefined;
  const phone = normalizePhone(recipient);
  if ("error" in phone) return undefined;
  const colon = providerMessageId.indexOf(":");
  const id = colon < 0 ? providerMessageId : providerMessageId.slice(0, colon);
  if (!SMSC_ID.test(id)) return undefined;
  return { id, digits: phone.e164.slice(1) };
}
