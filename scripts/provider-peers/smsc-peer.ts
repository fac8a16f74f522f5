import { measureSmsText } from "../../dispatch/providers/sms-text.ts";
import type { FaultControls } from "./peer-fault.ts";
import { type ReceivedItems, ReceivedLog } from "./received-log.ts";
import type { SmsFault } from "./sms-fault.ts";
import type { FormFields } from "./sms-form.ts";
import {
  type PeerAnswer,
  type ReceivedSms,
  type SmsPeerOptions,
  startSmsPeerServer,
} from "./sms-peer-server.ts";

export interface SmscPeerOptions extends SmsPeerOptions {
  /** The only credentials accepted; `dev` and `dev` by default. */
  login?: string;
  password?: string;
  /** The sender names registered for the account; any name when left out. */
  senders?: string[];
  /** How long after sending an SMS shows as delivered (1) rather than passed to the operator (0); 0 by default. */
  deliverAfterMs?: number;
}

/** One SMS the peer accepted, with what only SMSC sees. */
export interface ReceivedSmsc extends ReceivedSms {
  /** The message's life (valid) as asked, "hh:mm" or hours. */
  valid: string | undefined;
  /** The charset the text was read in: windows-1251 unless the request said otherwise, as SMSC does. */
  charset: string;
}

export interface SmscPeer extends ReceivedItems<ReceivedSmsc>, FaultControls<SmsFault> {
  readonly host: string;
  readonly port: number;
  /** The API (`/sys/send.php`, `/sys/status.php`) and the page: `GET /`, `GET` and `DELETE /messages`, `GET` and `POST /fault`. */
  readonly url: string;
  /** The certificate presented: what a client trusts to reach the peer. */
  readonly ca: string;
  /** Forgets the SMS, the statuses set and the requests seen. */
  clear(): void;
  /** What the status call answers from now on for the SMS with this id to this number (digits). */
  setStatus(id: string, to: string, status: number, err?: number): void;
  close(): Promise<void>;
}

interface StatusChange {
  status: number;
  err: number;
  at: number;
}

// Ids SMSC takes from the client: a 32-bit number, or up to 40 of these characters.
const CLIENT_ID = /^[A-Za-z0-9._-]{1,40}$/;
const MAX_NUMERIC_ID = 2_147_483_647;
const MAX_TEXT_CHARACTERS = 1000;
// SMSC refuses the same request again within a minute.
const DUPLICATE_WINDOW_MS = 60_000;
const CHARSETS = new Set(["utf-8", "koi8-r", "windows-1251"]);
const ERRORS: Record<number, string> = {
  1: "parameters error",
  2: "authorise error",
  6: "message is denied",
  7: "invalid phone",
  9: "duplicate request, wait a minute",
};

/**
 * SMSC.ru's HTTP API on a local port (`/sys/send.php` and `/sys/status.php`, answering as
 * SMSC does with fmt=3), for tests and local development. It checks the credentials, the
 * sender, every number, the text in the charset named (windows-1251 without one, as SMSC
 * reads it), the client's id and valid; refuses the same request again within a minute; and
 * answers status calls from what it accepted.
 *
 * Where SMSC's documentation is silent the peer answers as SMSC is best known to: a list
 * status call is answered with one object per message naming its id and phone; a valid or an
 * id out of their range is error 1.
 */
export async function startSmscPeer(options: SmscPeerOptions = {}): Promise<SmscPeer> {
  const login = options.login ?? "dev";
  const password = options.password ?? "dev";
  const deliverAfterMs = options.deliverAfterMs ?? 0;
  const received = new ReceivedLog<ReceivedSmsc>("the SMSC peer", options.remember ?? 1000, "SMS");
  const statuses = new Map<string, StatusChange>();
  const recentRequests = new Map<string, number>();
  let sequence = 1;

  const error = (code: number, id?: string): PeerAnswer => ({
    body: JSON.stringify({ error: ERRORS[code], error_code: code, ...(id === undefined ? {} : { id }) }),
  });
  const authorised = (fields: FormFields, fault: SmsFault): boolean =>
    fault.mode !== "auth" && fields.text("login") === login && fields.text("psw") === password;

  const send = (fields: FormFields, fault: SmsFault): PeerAnswer => {
    if (fields.text("fmt") !== "3") {
      return { contentType: "text/plain; charset=utf-8", body: "ERROR = 1 (this peer answers fmt=3 only)" };
    }
    if (!authorised(fields, fault)) return error(2);
    const now = Date.now();
    for (const [request, at] of recentRequests)
      if (now - at >= DUPLICATE_WINDOW_MS) recentRequests.delete(request);
    const request = fields.canonical();
    if (recentRequests.has(request)) return error(9);
    recentRequests.set(request, now);

    const charset = (fields.text("charset") ?? "windows-1251").toLowerCase();
    if (!CHARSETS.has(charset)) return error(1);
    if (charset === "utf-8" && !fields.validUtf8("mes")) return error(1);
    const text = fields.text("mes", charset) ?? "";
    if (text === "" || [...text].length > MAX_TEXT_CHARACTERS) return error(1);
    const clientId = fields.text("id");
    if (clientId !== undefined && !validClientId(clientId)) return error(1);
    const valid = fields.text("valid");
    if (valid !== undefined && validMinutes(valid) === undefined) return error(1);
    const id = clientId ?? String(sequence++);
    const sender = fields.text("sender", charset);
    if (sender !== undefined && options.senders && !options.senders.includes(sender)) return error(6, id);
    const phones = (fields.text("phones") ?? "").split(/[,;]/).filter((phone) => phone !== "");
    if (phones.length === 0) return error(1);
    const numbers = phones.map((phone) => phone.replace(/^\+/, ""));
    if (fault.mode === "bad-number" || !numbers.every((number) => /^\d{10,15}$/.test(number))) {
      return error(7, id);
    }

    const measure = measureSmsText(text);
    for (const to of numbers) {
      received.keep({
        id,
        receivedAt: new Date(now).toISOString(),
        to,
        text,
        sender,
        encoding: measure.encoding,
        segments: measure.segments,
        valid,
        charset,
      });
    }
    return { body: JSON.stringify({ id: clientId ?? Number(id), cnt: measure.segments * numbers.length }) };
  };

  const statusOf = (id: string, to: string) => {
    const sms = received.find((kept) => kept.id === id && kept.to === to);
    if (!sms) return { status: -3, at: Date.now(), err: 0 };
    const changed = statuses.get(`${id}:${to}`);
    if (changed) return changed;
    const sentAt = Date.parse(sms.receivedAt);
    const delivered = Date.now() - sentAt >= deliverAfterMs;
    return { status: delivered ? 1 : 0, at: delivered ? sentAt + deliverAfterMs : sentAt, err: 0 };
  };

  const status = (fields: FormFields, fault: SmsFault): PeerAnswer => {
    if (fields.text("fmt") !== "3") {
      return { contentType: "text/plain; charset=utf-8", body: "ERROR = 1 (this peer answers fmt=3 only)" };
    }
    if (!authorised(fields, fault)) return error(2);
    const idList = fields.text("id") ?? "";
    const phoneList = fields.text("phone") ?? "";
    // A list, even of one (with its trailing comma), is answered as a list.
    const asList = idList.includes(",");
    const ids = idList.split(",").filter((id) => id !== "");
    const phones = phoneList.split(",").filter((phone) => phone !== "");
    if (ids.length === 0 || ids.length !== phones.length) return error(1);
    const answers = ids.map((id, index) => {
      const phone = (phones[index] ?? "").replace(/^\+/, "");
      const { status: code, at, err } = statusOf(id, phone);
      const entry = {
        status: code,
        last_date: smscDate(at),
        last_timestamp: Math.floor(at / 1000),
        flag: 0,
        err,
      };
      return { id, phone, entry };
    });
    if (asList)
      return { body: JSON.stringify(answers.map(({ id, phone, entry }) => ({ id, phone, ...entry }))) };
    return { body: JSON.stringify(answers[0]?.entry) };
  };

  const server = await startSmsPeerServer({
    title: "SMSC peer",
    options,
    api: { "/sys/send.php": send, "/sys/status.php": status },
    received,
  });

  return {
    ...server,
    ...received.asReceivedItems(),
    clear: () => {
      received.clear();
      statuses.clear();
      recentRequests.clear();
    },
    setStatus: (id, to, code, err = 0) => {
      statuses.set(`${id}:${to}`, { status: code, err, at: Date.now() });
    },
  };
}

function validClientId(id: string): boolean {
  if (/^\d+$/.test(id)) return Number(id) >= 1 && Number(id) <= MAX_NUMERIC_ID;
  return CLIENT_ID.test(id);
}

/** valid as minutes: "hh:mm" from 00:01 to 24:00, or whole hours from 1 to 24. */
function validMinutes(valid: string): number | undefined {
  const hoursOnly = /^\d{1,2}$/.test(valid) ? Number(valid) * 60 : undefined;
  const parts = /^(\d{1,2}):(\d{2})$/.exec(valid);
  const minutes = parts ? Number(parts[1]) * 60 + Number(parts[2]) : hoursOnly;
  if (minutes === undefined || (parts && Number(parts[2]) > 59)) return undefined;
  return minutes >= 1 && minutes <= 24 * 60 ? minutes : undefined;
}

/** SMSC's last_date: dd.mm.yyyy hh:mm:ss, Moscow time (UTC+3, no daylight saving since 2014). */
function smscDate(at: number): string {
  const moscow = new Date(at + 3 * 3600_000);
  const two = (value: number) => String(value).padStart(2, "0");
  return (
    `${two(moscow.getUTCDate())}.${two(moscow.getUTCMonth() + 1)}.${moscow.getUTCFullYear()} ` +
    `${two(moscow.getUTCHours())}:${two(moscow.getUTCMinutes())}:${two(moscow.getUTCSeconds())}`
  );
}
