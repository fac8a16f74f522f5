import { createHash, randomInt } from "node:crypto";
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

export interface SmsRuPeerOptions extends SmsPeerOptions {
  /** The only api_id accepted; `dev` by default. */
  apiId?: string;
  /** The sender names approved for the account; any name when left out. */
  senders?: string[];
  /** Where delivery statuses are POSTed, as SMS.ru calls a callback set up for the account. */
  callbackUrl?: string;
  /** How long after accepting an SMS its "delivered" status is called back (0 by default). */
  callbackDelayMs?: number;
}

/** One SMS the peer accepted, with what only SMS.ru sees. */
export interface ReceivedSmsRu extends ReceivedSms {
  /** Minutes it may live (ttl), as asked. */
  ttl: number | undefined;
}

/** One call of the callback, and how the endpoint answered it. */
export interface SmsRuCallbackCall {
  at: string;
  /** The `data[]` entries, as signed. */
  entries: string[];
  /** The HTTP status, or undefined when the call got no answer. */
  status: number | undefined;
  /** The body answered (SMS.ru wants "100"), or why there was none. */
  answer: string;
}

export interface SmsRuPeer extends ReceivedItems<ReceivedSmsRu>, FaultControls<SmsFault> {
  readonly host: string;
  readonly port: number;
  /** The API (`/sms/send`) and the page: `GET /`, `GET` and `DELETE /messages`, `GET` and `POST /fault`. */
  readonly url: string;
  /** The certificate presented: what a client trusts to reach the peer. */
  readonly ca: string;
  /** Every call of the callback so far, oldest first. */
  callbacks(): SmsRuCallbackCall[];
  /** Calls the callback now with `statusCode` for `smsId`, signed as SMS.ru signs. */
  callBack(smsId: string, statusCode: number): Promise<SmsRuCallbackCall>;
  /** Stops calling back, cuts every connection and stops. */
  close(): Promise<void>;
}

// The longest text SMS.ru sends, in SMS; longer ones are refused with 205.
const MAX_SEGMENTS = 8;
const TTL_MINUTES = { min: 1, max: 24 * 60 };
// How long one call of the callback may take.
const CALLBACK_TIMEOUT_MS = 5_000;

/**
 * SMS.ru's HTTP API on a local port (`/sms/send`, answering as SMS.ru does with and without
 * json=1), for tests and local development. It checks the api_id, the sender, the number, the
 * text (UTF-8, at most 8 SMS) and ttl, keeps what it accepts, and reports delivery to the
 * callback URL with a `data[]` status signed as SMS.ru signs it.
 *
 * Where SMS.ru's documentation is silent the peer answers as SMS.ru is best known to: the
 * answer to a ttl out of its range (1 to 1440 minutes) is taken to be 208, the code of a time
 * SMS.ru cannot use.
 */
export async function startSmsRuPeer(options: SmsRuPeerOptions = {}): Promise<SmsRuPeer> {
  const apiId = options.apiId ?? "dev";
  const callbackDelayMs = options.callbackDelayMs ?? 0;
  const received = new ReceivedLog<ReceivedSmsRu>("the SMS.ru peer", options.remember ?? 1000, "SMS");
  const callbacks: SmsRuCallbackCall[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const calling = new Set<Promise<SmsRuCallbackCall>>();
  const stopCalling = new AbortController();
  let balance = 1000;
  let sequence = 10_000_000;

  const callBack = (smsId: string, statusCode: number): Promise<SmsRuCallbackCall> => {
    const url = options.callbackUrl;
    if (!url) return Promise.reject(new Error("the SMS.ru peer has no callback URL"));
    const entries = [`sms_status\n${smsId}\n${statusCode}\n${Math.floor(Date.now() / 1000)}`];
    const form = new URLSearchParams(
      entries.map((entry, index): [string, string] => [`data[${index}]`, entry]),
    );
    form.set(
      "hash",
      createHash("sha256")
        .update(apiId + entries.join(""), "utf8")
        .digest("hex"),
    );
    const call = fetch(url, {
      method: "POST",
      body: form,
      signal: AbortSignal.any([stopCalling.signal, AbortSignal.timeout(CALLBACK_TIMEOUT_MS)]),
    })
      .then(
        async (response): Promise<SmsRuCallbackCall> => ({
          at: new Date().toISOString(),
          entries,
          status: response.status,
          answer: await response.text(),
        }),
      )
      .catch((error: unknown) => ({
        at: new Date().toISOString(),
        entries,
        status: undefined,
        answer: error instanceof Error ? error.message : String(error),
      }))
      .then((record) => {
        callbacks.push(record);
        calling.delete(call);
        return record;
      });
    calling.add(call);
    return call;
  };

  const send = (fields: FormFields, fault: SmsFault): PeerAnswer => {
    const answer = (body: object, plain: string): PeerAnswer =>
      fields.text("json") === "1"
        ? { body: JSON.stringify(body) }
        : { contentType: "text/plain; charset=utf-8", body: plain };
    const refuse = (code: number, text: string): PeerAnswer =>
      answer({ status: "ERROR", status_code: code, status_text: text }, String(code));

    if (fault.mode === "auth" || fields.text("api_id") !== apiId) return refuse(200, "Неправильный api_id");
    if (!fields.validUtf8("msg")) return refuse(212, "Текст сообщения необходимо передать в кодировке UTF-8");
    const text = fields.text("msg") ?? "";
    if (text.trim() === "") return refuse(203, "Нет текста сообщения");
    const sender = fields.text("from");
    if (sender !== undefined && options.senders && !options.senders.includes(sender)) {
      return refuse(204, "Имя отправителя не согласовано с администрацией");
    }
    const ttlText = fields.text("ttl");
    const ttl = ttlText === undefined ? undefined : Number(ttlText);
    if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= TTL_MINUTES.min && ttl <= TTL_MINUTES.max)) {
      return refuse(208, "Параметр ttl указан неправильно");
    }
    const measure = measureSmsText(text);
    if (measure.segments > MAX_SEGMENTS) return refuse(205, "Сообщение слишком длинное (превышает 8 СМС)");
    const to = fields.text("to") ?? "";
    if (!/^\d{10,15}$/.test(to) || fault.mode === "bad-number") {
      const refused = {
        status: "ERROR",
        status_code: 202,
        status_text: "Неправильно указан номер телефона получателя, либо на него нет маршрута",
      };
      return answer(
        { status: "OK", status_code: 100, sms: { [to]: refused }, balance },
        `100\n202\nbalance=${balance}`,
      );
    }

    const id = `${String(randomInt(1_000_000)).padStart(6, "0")}-${sequence++}`;
    balance = Math.round((balance - 2.5 * measure.segments) * 100) / 100;
    received.keep({
      id,
      receivedAt: new Date().toISOString(),
      to,
      text,
      sender,
      encoding: measure.encoding,
      segments: measure.segments,
      ttl,
    });
    if (options.callbackUrl) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void callBack(id, 103);
      }, callbackDelayMs);
      timers.add(timer);
    }
    return answer(
      {
        status: "OK",
        status_code: 100,
        sms: { [to]: { status: "OK", status_code: 100, sms_id: id } },
        balance,
      },
      `100\n${id}\nbalance=${balance}`,
    );
  };

  const server = await startSmsPeerServer({
    title: "SMS.ru peer",
    options,
    api: { "/sms/send": send },
    received,
  });

  return {
    ...server,
    ...received.asReceivedItems(),
    callbacks: () => [...callbacks],
    callBack,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      stopCalling.abort();
      await Promise.allSettled([...calling]);
      await server.close();
    },
  };
}
