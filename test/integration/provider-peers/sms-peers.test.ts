import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type SmscPeer,
  type SmsRuPeer,
  startSmscPeer,
  startSmsRuPeer,
} from "../../../scripts/provider-peers/index.ts";
import { NOT_FAULTS, resetPeersBeforeEach } from "../../support/provider-peers.ts";

// The SMS peers' own surface: what their APIs check as the vendors do, and their HTTPS page.
// Requests are written by hand here, byte for byte, as any client could send them.
let smsru: SmsRuPeer;
let smsc: SmscPeer;
beforeAll(async () => {
  [smsru, smsc] = await Promise.all([startSmsRuPeer(), startSmscPeer()]);
});
afterAll(() => Promise.all([smsru.close(), smsc.close()]));
resetPeersBeforeEach(() => [smsru, smsc]);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  peer: { url: string; ca: string },
  path: string,
  init: { method?: string; body?: string | Buffer; contentType?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${peer.url}${path}`,
      {
        method: init.method ?? "GET",
        ca: peer.ca,
        headers:
          init.body === undefined
            ? {}
            : { "content-type": init.contentType ?? "application/x-www-form-urlencoded" },
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("end", () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end(init.body);
  });
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe("SMS.ru peer", () => {
  it("answers JSON with json=1, SMS.ru's lines without it, and counts the SMS", async () => {
    const sent = await call(smsru, "/sms/send", {
      method: "POST",
      body: form({ api_id: "dev", to: "79991234567", msg: "Привет, мир!", json: "1" }),
    });
    const answer = JSON.parse(sent.body);
    expect(answer).toMatchObject({
      status: "OK",
      status_code: 100,
      sms: {
        "79991234567": { status: "OK", status_code: 100, sms_id: expect.stringMatching(/^\d{6}-\d+$/) },
      },
    });
    expect(smsru.messages()).toMatchObject([
      { id: answer.sms["79991234567"].sms_id, text: "Привет, мир!", encoding: "ucs2", segments: 1 },
    ]);
    const plain = await call(smsru, `/sms/send?${form({ api_id: "dev", to: "79991234567", msg: "Hi" })}`);
    expect(plain.body).toMatch(/^100\n\d{6}-\d+\nbalance=[\d.]+$/);
    expect(plain.headers["content-type"]).toMatch(/^text\/plain/);
  });

  it("refuses a wrong api_id, text that is not UTF-8, an empty text and a ttl out of range", async () => {
    const refusal = async (body: string) =>
      JSON.parse((await call(smsru, "/sms/send", { method: "POST", body })).body);
    expect(await refusal(form({ api_id: "nope", to: "79991234567", msg: "x", json: "1" }))).toEqual({
      status: "ERROR",
      status_code: 200,
      status_text: "Неправильный api_id",
    });
    // "Привет" in windows-1251: bytes that are no UTF-8.
    expect(await refusal("api_id=dev&to=79991234567&json=1&msg=%CF%F0%E8%E2%E5%F2")).toMatchObject({
      status_code: 212,
    });
    expect(await refusal(form({ api_id: "dev", to: "79991234567", msg: " ", json: "1" }))).toMatchObject({
      status_code: 203,
    });
    expect(
      await refusal(form({ api_id: "dev", to: "79991234567", msg: "x", ttl: "1441", json: "1" })),
    ).toMatchObject({ status_code: 208 });
    expect(smsru.messages()).toEqual([]);
  });
});

describe("SMSC peer", () => {
  it("reads text as windows-1251 unless the request names its charset, as SMSC does", async () => {
    const utf8 = "Привет";
    const base = { login: "dev", psw: "dev", phones: "+79991234567", fmt: "3" };
    const sent = await call(smsc, "/sys/send.php", {
      method: "POST",
      body: form({ ...base, mes: utf8, charset: "utf-8" }),
    });
    expect(JSON.parse(sent.body)).toEqual({ id: expect.any(Number), cnt: 1 });
    await call(smsc, "/sys/send.php", { method: "POST", body: form({ ...base, mes: utf8 }) });
    const [asUtf8, asCp1251] = smsc.messages();
    expect(asUtf8).toMatchObject({ text: utf8, charset: "utf-8", to: "79991234567" });
    expect(asCp1251).toMatchObject({ text: "РџСЂРёРІРµС‚", charset: "windows-1251" });
  });

  it("answers a status call for one message without a list as one object, with a list as a list", async () => {
    const base = { login: "dev", psw: "dev", fmt: "3" };
    const sent = await call(smsc, "/sys/send.php", {
      method: "POST",
      body: form({ ...base, phones: "79991234567", mes: "Hi", id: "order-1" }),
    });
    expect(JSON.parse(sent.body)).toEqual({ id: "order-1", cnt: 1 });
    const single = await call(
      smsc,
      `/sys/status.php?${form({ ...base, id: "order-1", phone: "79991234567" })}`,
    );
    expect(JSON.parse(single.body)).toEqual({
      status: 1,
      last_date: expect.stringMatching(/^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$/),
      last_timestamp: expect.any(Number),
      flag: 0,
      err: 0,
    });
    const list = await call(
      smsc,
      `/sys/status.php?${form({ ...base, id: "order-1,nope", phone: "+79991234567,79990000000" })}`,
    );
    expect(JSON.parse(list.body)).toMatchObject([
      { id: "order-1", phone: "79991234567", status: 1 },
      { id: "nope", phone: "79990000000", status: -3 },
    ]);
  });
});

describe("the SMS peers' page", () => {
  it("escapes everything an SMS brings", async () => {
    await call(smsru, "/sms/send", {
      method: "POST",
      body: form({
        api_id: "dev",
        to: "79991234567",
        msg: "<script>alert('text')</script>",
        from: 'A&B"',
        json: "1",
      }),
    });
    const page = await call(smsru, "/");
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["content-security-policy"]).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(page.body).toContain("&lt;script&gt;alert(&#39;text&#39;)&lt;/script&gt;");
    expect(page.body).toContain("A&amp;B&quot;");
    expect(page.body).not.toContain("<script>");
  });

  it("lists what arrived as JSON and forgets it on DELETE", async () => {
    await call(smsc, "/sys/send.php", {
      method: "POST",
      body: form({ login: "dev", psw: "dev", phones: "79991234567", mes: "Hi", fmt: "3" }),
    });
    expect(JSON.parse((await call(smsc, "/messages")).body)).toMatchObject([
      { to: "79991234567", text: "Hi" },
    ]);
    expect((await call(smsc, "/messages", { method: "DELETE" })).status).toBe(204);
    expect(JSON.parse((await call(smsc, "/messages")).body)).toEqual([]);
  });

  it("switches faults over POST /fault, and refuses one that is not a fault", async () => {
    const switched = await call(smsru, "/fault", {
      method: "POST",
      contentType: "application/json",
      body: JSON.stringify({ mode: "rate-limit", retryAfterSeconds: 12 }),
    });
    expect(JSON.parse(switched.body)).toEqual({ mode: "rate-limit", retryAfterSeconds: 12 });
    const limited = await call(smsru, "/sms/send", { method: "POST", body: form({ api_id: "dev" }) });
    expect(limited.status).toBe(429);
    expect(limited.headers["retry-after"]).toBe("12");
    // The page is no part of the API: it keeps answering whatever the fault.
    expect((await call(smsru, "/fault")).status).toBe(200);

    for (const body of NOT_FAULTS) {
      const refused = await call(smsru, "/fault", { method: "POST", contentType: "application/json", body });
      expect(refused.status).toBe(400);
    }
    expect(smsru.fault()).toEqual({ mode: "rate-limit", retryAfterSeconds: 12 });
    expect((await call(smsru, "/nowhere")).status).toBe(404);
  });
});
