import { createHash, randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type {
  AwaitingReport,
  DeliveryOutcome,
  OutgoingMessage,
  ProviderReport,
} from "../../../core/sending/index.ts";
import {
  parseSmsRuCallback,
  SmscProvider,
  type SmscProviderOptions,
  SmscStatusPoller,
  SmsRuProvider,
  type SmsRuProviderOptions,
  StatusPollError,
} from "../../../dispatch/index.ts";
import {
  type SmscPeer,
  type SmsRuPeer,
  startSmscPeer,
  startSmsRuPeer,
} from "../../../scripts/provider-peers/index.ts";
import { resetPeersBeforeEach, startHttpReceiver } from "../../support/provider-peers.ts";

// Both SMS providers against peers that speak SMS.ru's and SMSC's HTTPS APIs on local ports
// (scripts/provider-peers): each peer checks the credentials, the parameters and the text's
// encoding as its vendor does, keeps what it accepts and misbehaves when told to.
const SMSRU_API_ID = "3C7A1B52-smsru-test-key";
const SMSC = { login: "notifier", password: "smsc-peer-password" };
const SENDER = "Notify";
const PHONE = "+79991234567";
const DIGITS = "79991234567";
// 91 characters of Cyrillic: UCS-2, two parts of at most 67.
const TEXT = "Здравствуйте, Иван! Ваш заказ A-1 оплачен. Код получения: 4821. Спасибо, что выбрали нас.";

/** Our end of SMS.ru's callback: answers 100 to what it takes and 403 to what it refuses. */
interface CallbackEndpoint {
  url: string;
  reports: ProviderReport[];
  refusals: string[];
  close(): Promise<void>;
}

let smsru: SmsRuPeer;
let smsc: SmscPeer;
let callback: CallbackEndpoint;
const providers: { close(): Promise<void> | void }[] = [];

beforeAll(async () => {
  callback = await startCallbackEndpoint(SMSRU_API_ID, "sms-smsru");
  [smsru, smsc] = await Promise.all([
    startSmsRuPeer({
      apiId: SMSRU_API_ID,
      senders: [SENDER],
      callbackUrl: callback.url,
      callbackDelayMs: 50,
    }),
    startSmscPeer({ ...SMSC, senders: [SENDER] }),
  ]);
});
afterAll(async () => {
  await Promise.all([smsru.close(), smsc.close()]);
  await callback.close();
});
resetPeersBeforeEach(() => [smsru, smsc]);
afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.close()));
});

function smsRu(overrides: Partial<SmsRuProviderOptions> = {}): SmsRuProvider {
  const provider = new SmsRuProvider({
    name: "sms-smsru",
    apiId: SMSRU_API_ID,
    baseUrl: smsru.url,
    sender: SENDER,
    tls: { ca: smsru.ca },
    timeoutMs: 5_000,
    ...overrides,
  });
  providers.push(provider);
  return provider;
}

function smscOptions(overrides: Partial<SmscProviderOptions> = {}): SmscProviderOptions {
  return {
    name: "sms-smsc",
    ...SMSC,
    baseUrl: smsc.url,
    sender: SENDER,
    tls: { ca: smsc.ca },
    timeoutMs: 5_000,
    ...overrides,
  };
}

function smscProvider(overrides: Partial<SmscProviderOptions> = {}): SmscProvider {
  const provider = new SmscProvider(smscOptions(overrides));
  providers.push(provider);
  return provider;
}

function poller(overrides: Partial<SmscProviderOptions> = {}): SmscStatusPoller {
  const made = new SmscStatusPoller(smscOptions(overrides));
  providers.push(made);
  return made;
}

function sms(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    messageId: randomUUID(),
    destination: { channel: "sms", phone: PHONE },
    subject: "",
    body: TEXT,
    bodyHtml: "",
    priority: "normal",
    ...overrides,
  };
}

/** Whether anything in `outcome` gives away the number or the text. */
function disclosed(outcome: DeliveryOutcome): boolean {
  const written = JSON.stringify(outcome);
  return written.includes(DIGITS.slice(1)) || written.includes(TEXT.slice(0, 12));
}

async function timed<T>(work: Promise<T>): Promise<{ result: T; elapsed: number }> {
  const started = performance.now();
  const result = await work;
  return { result, elapsed: performance.now() - started };
}

describe("SmsRuProvider", () => {
  it("posts the number without +, the text, the sender and the ttl, and takes SMS.ru's id", async () => {
    const ttlMinutes = 90;
    const message = sms({ expiresAt: new Date(Date.now() + ttlMinutes * 60_000 + 30_000) });
    const outcome = await smsRu().send(message);

    const [received] = smsru.messages();
    expect(smsru.messages()).toHaveLength(1);
    expect(outcome).toEqual({ status: "sent", providerMessageId: received?.id });
    expect(received?.id).toMatch(/^\d{6}-\d+$/);
    expect(received).toMatchObject({
      to: DIGITS,
      text: TEXT,
      sender: SENDER,
      ttl: ttlMinutes,
      encoding: "ucs2",
      segments: Math.ceil([...TEXT].length / 67),
    });
  });

  it("takes a Russian national number, and sends without sender or ttl when it has none", async () => {
    const message = sms({
      destination: { channel: "sms", phone: "8 (999) 123-45-67" },
      body: "Code 4821 [ok]",
    });
    expect((await smsRu({ sender: undefined }).send(message)).status).toBe("sent");
    expect(smsru.messages()).toMatchObject([
      {
        to: DIGITS,
        text: "Code 4821 [ok]",
        sender: undefined,
        ttl: undefined,
        encoding: "gsm7",
        segments: 1,
      },
    ]);
  });

  it("bounds the ttl to the day SMS.ru takes at most", async () => {
    await smsRu().send(sms({ expiresAt: new Date(Date.now() + 3 * 24 * 3600_000) }));
    expect(smsru.messages()[0]?.ttl).toBe(1440);
  });

  it("fails for good, without a request, a number that is not one", async () => {
    const outcome = await smsRu().send(sms({ destination: { channel: "sms", phone: "+7 999 123 45" } }));
    expect(outcome).toEqual({
      status: "failed",
      reason: expect.stringMatching(/^a \+7 number/),
      retryable: false,
    });
    expect(smsru.messages()).toEqual([]);
  });

  it("fails for good a number SMS.ru refuses, and says the destination is gone", async () => {
    smsru.setFault({ mode: "bad-number" });
    const outcome = await smsRu().send(sms());
    expect(outcome).toEqual({
      status: "failed",
      reason: "SMS.ru 202 Неправильно указан номер телефона получателя, либо на него нет маршрута",
      retryable: false,
      destinationGone: true,
    });
    expect(disclosed(outcome)).toBe(false);
    expect(smsru.messages()).toEqual([]);
  });

  it("fails for good a text longer than 8 SMS", async () => {
    const outcome = await smsRu().send(sms({ body: "ж".repeat(8 * 67 + 1) }));
    expect(outcome).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(/^SMS\.ru 205 /),
      retryable: false,
    });
    expect(outcome.status === "failed" && outcome.destinationGone).toBeFalsy();
  });

  it("fails retryable on refused credentials or sender: ours to fix, another provider may send", async () => {
    const wrongKey = await smsRu({ apiId: "not-the-key" }).send(sms());
    expect(wrongKey).toEqual({ status: "failed", reason: "SMS.ru 200 Неправильный api_id", retryable: true });
    smsru.setFault({ mode: "auth" });
    expect(await smsRu().send(sms())).toEqual(wrongKey);
    smsru.setFault({ mode: "none" });
    expect(await smsRu({ sender: "Unknown" }).send(sms())).toEqual({
      status: "failed",
      reason: "SMS.ru 204 Имя отправителя не согласовано с администрацией",
      retryable: true,
    });
    expect(smsru.messages()).toEqual([]);
  });

  it("fails retryable on 503, and on 429 waits as long as Retry-After says", async () => {
    smsru.setFault({ mode: "5xx" });
    expect(await smsRu().send(sms())).toEqual({ status: "failed", reason: "HTTP 503", retryable: true });
    smsru.setFault({ mode: "rate-limit", retryAfterSeconds: 7 });
    expect(await smsRu().send(sms())).toEqual({
      status: "failed",
      reason: "HTTP 429",
      retryable: true,
      retryAfterMs: 7_000,
    });
    expect(smsru.messages()).toEqual([]);
  });

  it("fails retryable when the connection drops, or nothing comes back within timeoutMs", async () => {
    smsru.setFault({ mode: "drop" });
    expect(await smsRu().send(sms())).toEqual({
      status: "failed",
      reason: "ECONNRESET: socket hang up",
      retryable: true,
    });
    smsru.setFault({ mode: "hang" });
    const { result, elapsed } = await timed(smsRu({ timeoutMs: 400 }).send(sms()));
    expect(result).toEqual({
      status: "failed",
      reason: "ETIMEDOUT: no answer within 400 ms",
      retryable: true,
    });
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(2_000);
  });

  it("waits for a slow answer within timeoutMs, and not past it", async () => {
    smsru.setFault({ mode: "slow", delayMs: 300 });
    const { result, elapsed } = await timed(smsRu({ timeoutMs: 2_000 }).send(sms()));
    expect(result.status).toBe("sent");
    expect(elapsed).toBeGreaterThanOrEqual(290);
    const late = await timed(smsRu({ timeoutMs: 150 }).send(sms()));
    expect(late.result).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(/^ETIMEDOUT/),
      retryable: true,
    });
    expect(late.elapsed).toBeLessThan(290);
    // What it gave up on still reaches SMS.ru, which has no key to tell a resend by.
    await expect.poll(() => smsru.messages().length).toBe(2);
  });

  it("trusts only the certificate it is given", async () => {
    const outcome = await smsRu({ tls: {} }).send(sms());
    expect(outcome).toMatchObject({
      status: "failed",
      retryable: true,
      reason: expect.stringMatching(/certificate/i),
    });
    expect(smsru.messages()).toEqual([]);
  });

  it("lets a request in flight finish when it closes, and takes no more", async () => {
    smsru.setFault({ mode: "slow", delayMs: 200 });
    const provider = smsRu();
    const sending = provider.send(sms());
    await provider.close();
    expect((await sending).status).toBe("sent");
    expect(await provider.send(sms())).toEqual({
      status: "failed",
      reason: "sms-smsru is closing",
      retryable: true,
    });
    expect(smsru.messages()).toHaveLength(1);
  });

  it("throws when handed what it cannot be meant to send, and checks its configuration", async () => {
    await expect(
      smsRu().send(sms({ destination: { channel: "email", email: "a@b.example" } })),
    ).rejects.toThrow(/delivers sms, not email/);
    expect(() => smsRu({ apiId: "" })).toThrow(/api_id/);
    expect(() => smsRu({ baseUrl: "http://127.0.0.1:1" })).toThrow(/must be https/);
    expect(() => smsRu({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => smsRu({ sender: " " })).toThrow(/sender name is empty/);
  });
});

describe("SMS.ru's callback", () => {
  it("comes signed after the send, and is read back as delivered; our endpoint answers 100", async () => {
    const outcome = await smsRu().send(sms());
    if (outcome.status !== "sent") throw new Error(`not sent: ${JSON.stringify(outcome)}`);
    // The peer notes a call once it has the answer, after our endpoint took the report.
    await expect
      .poll(() => smsru.callbacks().find((made) => made.entries[0]?.includes(outcome.providerMessageId)))
      .toMatchObject({ status: 200, answer: "100" });
    expect(
      callback.reports.find((report) => report.providerMessageId === outcome.providerMessageId),
    ).toMatchObject({
      provider: "sms-smsru",
      kind: "delivered",
    });
    const call = smsru.callbacks().find((made) => made.entries[0]?.includes(outcome.providerMessageId));
    expect(call?.entries[0]).toMatch(new RegExp(`^sms_status\\n${outcome.providerMessageId}\\n103\\n\\d+$`));
  });

  it("reads a route-less number as failed for good, an expired one as failed for now", async () => {
    await smsRu().send(sms());
    const id = smsru.messages()[0]?.id ?? "";
    expect(await smsru.callBack(id, 150)).toMatchObject({ status: 200, answer: "100" });
    expect(await smsru.callBack(id, 104)).toMatchObject({ status: 200, answer: "100" });
    const reports = callback.reports.filter(
      (report) => report.providerMessageId === id && report.kind === "failed",
    );
    expect(reports).toEqual([
      expect.objectContaining({
        kind: "failed",
        permanent: true,
        reason: expect.stringMatching(/^SMS\.ru 150: /),
      }),
      expect.objectContaining({
        kind: "failed",
        permanent: false,
        reason: expect.stringMatching(/^SMS\.ru 104: /),
      }),
    ]);
  });

  it("is refused when signed with another key, or altered after signing", async () => {
    const entry = `sms_status\n000000-1\n103\n${Math.floor(Date.now() / 1000)}`;
    const signed = (key: string, entries: string[]) =>
      createHash("sha256")
        .update(key + entries.join(""), "utf8")
        .digest("hex");
    const forged = new URLSearchParams({ "data[0]": entry, hash: signed("someone-else", [entry]) });
    expect(parseSmsRuCallback(forged, SMSRU_API_ID, "sms-smsru")).toEqual({
      refused: "hash does not match the entries signed with our api_id",
    });
    const altered = new URLSearchParams({
      "data[0]": entry.replace("\n103\n", "\n150\n"),
      hash: signed(SMSRU_API_ID, [entry]),
    });
    expect(parseSmsRuCallback(altered.toString(), SMSRU_API_ID, "sms-smsru")).toHaveProperty("refused");
    expect(parseSmsRuCallback(`data[0]=${encodeURIComponent(entry)}`, SMSRU_API_ID, "sms-smsru")).toEqual({
      refused: "the call has no hash",
    });
    expect(
      parseSmsRuCallback(new URLSearchParams({ "data[0]": entry, hash: "z" }), SMSRU_API_ID, "sms-smsru"),
    ).toEqual({ refused: "hash is not a SHA-256 digest" });

    const good = new URLSearchParams({ "data[0]": entry, hash: signed(SMSRU_API_ID, [entry]) });
    expect(parseSmsRuCallback(good, SMSRU_API_ID, "sms-smsru")).toMatchObject({
      reports: [{ providerMessageId: "000000-1", kind: "delivered" }],
    });
  });

  it("reads every entry of a call, in order, and leaves out what is no outcome", () => {
    const at = 1_750_000_000;
    const entries = [
      `sms_status\n000000-1\n102\n${at}`,
      `sms_status\n000000-2\n103\n${at}`,
      `callcheck_status\n201937-1000\n401\n${at}`,
      `sms_status\n000000-3\n106\n${at + 5}`,
    ];
    const form = new URLSearchParams(
      entries.map((entry, index): [string, string] => [`data[${index}]`, entry]),
    );
    form.set(
      "hash",
      createHash("sha256")
        .update(SMSRU_API_ID + entries.join(""))
        .digest("hex"),
    );
    expect(parseSmsRuCallback(form, SMSRU_API_ID, "sms-smsru")).toEqual({
      reports: [
        { provider: "sms-smsru", providerMessageId: "000000-2", at: new Date(at * 1000), kind: "delivered" },
        {
          provider: "sms-smsru",
          providerMessageId: "000000-3",
          at: new Date((at + 5) * 1000),
          kind: "failed",
          reason: "SMS.ru 106: not delivered, the phone failed",
          permanent: false,
        },
      ],
    });
  });
});

describe("SmscProvider", () => {
  it("sends our id, the number with +, UTF-8 text, the sender and valid, and keeps the id without the number", async () => {
    const message = sms({ expiresAt: new Date(Date.now() + 90 * 60_000 + 30_000) });
    const outcome = await smscProvider().send(message);

    expect(outcome).toEqual({ status: "sent", providerMessageId: message.messageId });
    expect(disclosed(outcome)).toBe(false);
    expect(smsc.messages()).toHaveLength(1);
    expect(smsc.messages()[0]).toMatchObject({
      id: message.messageId,
      to: DIGITS,
      text: TEXT,
      charset: "utf-8",
      sender: SENDER,
      valid: "01:30",
      encoding: "ucs2",
      segments: Math.ceil([...TEXT].length / 67),
    });
  });

  it("takes the same message sent again within a minute as the one already sent", async () => {
    const provider = smscProvider();
    const message = sms();
    const first = await provider.send(message);
    const again = await provider.send(message);
    expect(again).toEqual(first);
    expect(first).toEqual({ status: "sent", providerMessageId: message.messageId });
    expect(disclosed(again)).toBe(false);
    expect(smsc.messages()).toHaveLength(1);
  });

  it("waits a minute when SMSC refuses a request sent twice that it has no message for", async () => {
    // An id SMSC does not take goes unsent: SMSC names the message itself, and cannot be asked.
    const message = sms({ messageId: "order:1" });
    const first = await smscProvider().send(message);
    expect(first).toEqual({ status: "sent", providerMessageId: expect.stringMatching(/^\d+$/) });
    expect(disclosed(first)).toBe(false);
    expect(await smscProvider().send(message)).toEqual({
      status: "failed",
      reason: "SMSC error 9 duplicate request, wait a minute",
      retryable: true,
      retryAfterMs: 60_000,
    });
    expect(smsc.messages()).toHaveLength(1);
  });

  it("fails for good a number SMSC refuses, and says the destination is gone", async () => {
    smsc.setFault({ mode: "bad-number" });
    const outcome = await smscProvider().send(sms());
    expect(outcome).toEqual({
      status: "failed",
      reason: "SMSC error 7 invalid phone",
      retryable: false,
      destinationGone: true,
    });
    expect(disclosed(outcome)).toBe(false);
  });

  it("fails for good a sender SMSC forbids, retryable refused credentials", async () => {
    expect(await smscProvider({ sender: "Unknown" }).send(sms())).toEqual({
      status: "failed",
      reason: "SMSC error 6 message is denied",
      retryable: false,
    });
    expect(await smscProvider({ password: "wrong" }).send(sms())).toEqual({
      status: "failed",
      reason: "SMSC error 2 authorise error",
      retryable: true,
    });
    smsc.setFault({ mode: "auth" });
    expect(await smscProvider().send(sms())).toMatchObject({ status: "failed", retryable: true });
    expect(smsc.messages()).toEqual([]);
  });

  it("fails retryable on 503, 429 (with Retry-After), a dropped connection and silence past timeoutMs", async () => {
    smsc.setFault({ mode: "5xx" });
    expect(await smscProvider().send(sms())).toEqual({
      status: "failed",
      reason: "HTTP 503",
      retryable: true,
    });
    smsc.setFault({ mode: "rate-limit" });
    expect(await smscProvider().send(sms())).toEqual({
      status: "failed",
      reason: "HTTP 429",
      retryable: true,
      retryAfterMs: 30_000,
    });
    smsc.setFault({ mode: "drop" });
    expect(await smscProvider().send(sms())).toMatchObject({ status: "failed", retryable: true });
    smsc.setFault({ mode: "hang" });
    const { result, elapsed } = await timed(smscProvider({ timeoutMs: 300 }).send(sms()));
    expect(result).toEqual({
      status: "failed",
      reason: "ETIMEDOUT: no answer within 300 ms",
      retryable: true,
    });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2_000);
    expect(smsc.messages()).toEqual([]);
  });
});

describe("SmscStatusPoller", () => {
  /** A message sent, as the message log answers it awaiting its report: the recipient opened. */
  async function sent(phone: string): Promise<AwaitingReport & { recipient: string }> {
    const outcome = await smscProvider().send(sms({ destination: { channel: "sms", phone } }));
    if (outcome.status !== "sent") throw new Error(`not sent: ${JSON.stringify(outcome)}`);
    expect(outcome.providerMessageId).not.toContain(phone.replace(/\D/g, "").slice(1));
    return { providerMessageId: outcome.providerMessageId, recipient: phone };
  }

  it("turns the statuses SMSC gives into reports, leaving out messages still on their way", async () => {
    const items = await Promise.all(
      // A number written as people write it is asked about as it was sent: +79990000005.
      ["+79990000001", "+79990000002", "+79990000003", "+79990000004", "8 999 000-00-05"].map(sent),
    );
    const [delivered, badNumber, noSubscriber, expired, pending] = items as [
      AwaitingReport,
      AwaitingReport,
      AwaitingReport,
      AwaitingReport,
      AwaitingReport,
    ];
    smsc.setStatus(badNumber.providerMessageId, "79990000002", 22);
    smsc.setStatus(noSubscriber.providerMessageId, "79990000003", 20, 1);
    smsc.setStatus(expired.providerMessageId, "79990000004", 3);
    smsc.setStatus(pending.providerMessageId, "79990000005", 0);
    const missing = { providerMessageId: randomUUID(), recipient: "+79990000007" };

    const reports = await poller().poll([delivered, badNumber, noSubscriber, expired, pending, missing]);
    const byId = new Map(reports.map((report) => [report.providerMessageId, report]));
    expect(reports).toHaveLength(4);
    expect(byId.get(delivered.providerMessageId)).toMatchObject({ provider: "sms-smsc", kind: "delivered" });
    expect(byId.get(badNumber.providerMessageId)).toMatchObject({
      kind: "failed",
      permanent: true,
      reason: "SMSC 22: invalid number",
    });
    expect(byId.get(noSubscriber.providerMessageId)).toMatchObject({
      kind: "failed",
      permanent: true,
      reason: "SMSC 20: undeliverable (operator error 1)",
    });
    expect(byId.get(expired.providerMessageId)).toMatchObject({
      kind: "failed",
      permanent: false,
      reason: "SMSC 3: expired",
    });
    expect(byId.has(pending.providerMessageId)).toBe(false);
    expect(byId.has(missing.providerMessageId)).toBe(false);
    expect(JSON.stringify(reports)).not.toMatch(/7999000000\d/);
    const at = byId.get(delivered.providerMessageId)?.at.getTime() ?? 0;
    expect(Math.abs(at - Date.now())).toBeLessThan(5_000);
  });

  it("asks about a single message in SMSC's list form", async () => {
    const item = await sent(PHONE);
    expect(await poller().poll([item])).toMatchObject([
      { providerMessageId: item.providerMessageId, kind: "delivered" },
    ]);
  });

  it("leaves out a message whose recipient could not be opened or is no number, and asks about the rest", async () => {
    const item = await sent(PHONE);
    const unopened = { ...(await sent("+79990000008")), recipient: null };
    const notANumber = { ...(await sent("+79990000009")), recipient: "ivan@example.com" };
    expect(await poller().poll([unopened, item, notANumber])).toMatchObject([
      { providerMessageId: item.providerMessageId, kind: "delivered" },
    ]);
    // With nothing left to ask about, SMSC is not asked: these credentials would be refused.
    expect(await poller({ password: "wrong" }).poll([unopened, notANumber])).toEqual([]);
  });

  it("asks about a message sent when its id carried the number, by the id and the opened recipient", async () => {
    const item = await sent(PHONE);
    const before = { ...item, providerMessageId: `${item.providerMessageId}:${DIGITS}` };
    expect(await poller().poll([before])).toMatchObject([
      { providerMessageId: before.providerMessageId, kind: "delivered" },
    ]);
  });

  it("rejects when SMSC gives no statuses, with how long to wait when it says", async () => {
    const item = await sent(PHONE);
    await expect(poller({ password: "wrong" }).poll([item])).rejects.toThrow(
      /^sms-smsc: SMSC error 2 authorise error$/,
    );
    smsc.setFault({ mode: "rate-limit", retryAfterSeconds: 90 });
    const limited = await poller()
      .poll([item])
      .catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(StatusPollError);
    expect((limited as StatusPollError).retryAfterMs).toBe(90_000);
    expect(await poller().poll([])).toEqual([]);
  });
});

async function startCallbackEndpoint(apiId: string, provider: string): Promise<CallbackEndpoint> {
  const reports: ProviderReport[] = [];
  const refusals: string[] = [];
  const receiver = await startHttpReceiver("/sms-ru/callback", (body) => {
    const read = parseSmsRuCallback(body, apiId, provider);
    if ("refused" in read) {
      refusals.push(read.refused);
      return { status: 403, contentType: "text/plain", body: read.refused };
    }
    reports.push(...read.reports);
    return { status: 200, contentType: "text/plain", body: "100" };
  });
  return { url: receiver.url, reports, refusals, close: receiver.close };
}
