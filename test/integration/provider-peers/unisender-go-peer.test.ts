import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ReceivedUnisenderGoMessage,
  startUnisenderGoPeer,
  type UnisenderGoPeer,
} from "../../../scripts/provider-peers/index.ts";
import {
  expectHostileEmailEscaped,
  expectNotFaultsRefused,
  HOSTILE_EMAIL,
  resetPeersBeforeEach,
} from "../../support/provider-peers.ts";

// The Unisender Go peer's own surface: how it checks email/send.json, and its HTML page. Plain
// HTTP here, so that fetch can reach it without trusting its certificate.
const apiKey = "peer-test-key";
let peer: UnisenderGoPeer;
beforeAll(async () => {
  peer = await startUnisenderGoPeer({ apiKey, tls: false });
});
afterAll(() => peer.close());
resetPeersBeforeEach(() => [peer]);

function message(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    recipients: [{ email: "ivan@example.com" }],
    subject: "Тема",
    from_email: "noreply@example.ru",
    body: { plaintext: "Текст" },
    ...overrides,
  };
}

async function send(
  body: unknown,
  key: string | null = apiKey,
  path = "/ru/transactional/api/v1/email/send.json",
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${peer.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key === null ? {} : { "x-api-key": key }) },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const page = (path: string, init?: RequestInit): Promise<Response> => fetch(`${peer.httpUrl}${path}`, init);

describe("Unisender Go peer", () => {
  it("takes the key in X-API-KEY or in the body, and refuses a request without it", async () => {
    expect(await send({ message: message() }, null)).toEqual({
      status: 401,
      json: { status: "error", message: "Can not decode key", code: 401 },
    });
    expect((await send({ message: message(), api_key: apiKey }, null)).status).toBe(200);
    expect((await send({ message: message() })).json).toMatchObject({
      status: "success",
      emails: ["ivan@example.com"],
    });
    expect(peer.messages()).toHaveLength(2);
  });

  it("puts an address that is not one, and a repeated one, in failed_emails", async () => {
    const { status, json } = await send({
      message: message({
        recipients: [
          { email: "ivan@example.com" },
          { email: "not-an-address" },
          { email: "IVAN@example.com" },
        ],
      }),
    });
    expect(status).toBe(200);
    expect(json).toEqual({
      status: "success",
      job_id: expect.stringMatching(/^[A-Za-z0-9]{6}-[A-Za-z0-9]{6}-[A-Za-z0-9]{2}$/),
      emails: ["ivan@example.com"],
      failed_emails: { "not-an-address": "invalid", "IVAN@example.com": "duplicate" },
    });
  });

  it("answers 400 with what is wrong for a request the API would refuse", async () => {
    const cases: [unknown, string][] = [
      [{}, "the request has no message object"],
      [{ message: message({ recipients: [] }) }, "message.recipients is empty"],
      [
        {
          message: message({
            recipients: Array.from({ length: 501 }, (_, i) => ({ email: `u${i}@example.com` })),
          }),
        },
        "message.recipients holds over 500",
      ],
      [{ message: message({ subject: "" }) }, "message.subject is empty"],
      [{ message: message({ from_email: "noreply" }) }, "message.from_email is not an address"],
      [{ message: message({ body: { html: "" } }) }, "message.body has neither html nor plaintext"],
      [
        { message: message({ headers: { "Message-ID": "<a@b>" } }) },
        "message.headers may not set Message-ID",
      ],
      [
        { message: message({ headers: { "X-A": "1\r\nBcc: x@y.z" } }) },
        "message.headers.X-A is not one line of text",
      ],
      [
        { message: message({ idempotence_key: "k".repeat(65) }) },
        "message.idempotence_key is a text of 1 to 64 characters",
      ],
      [{ message: message({ track_links: true }) }, "message.track_links is 0 or 1"],
      [{ message: message({ trackLinks: 0 }) }, "the peer does not know message.trackLinks"],
      [
        {
          message: message({
            recipients: [
              {
                email: "ivan@example.com",
                metadata: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"])),
              },
            ],
          }),
        },
        "message.recipients[0].metadata holds over 10 fields",
      ],
      [
        {
          message: message({
            recipients: [{ email: "ivan@example.com", metadata: { message_id: "x".repeat(1025) } }],
          }),
        },
        "message.recipients[0].metadata.message_id is not a text or number of at most 1024 characters",
      ],
    ];
    for (const [body, reason] of cases) {
      expect(await send(body), reason).toEqual({
        status: 400,
        json: { status: "error", message: reason, code: 400 },
      });
    }
    expect(
      (await send({ message: message() }, apiKey, "/ru/transactional/api/v1/email/unknown.json")).status,
    ).toBe(404);
    expect(peer.messages()).toEqual([]);
  });

  it("lists what it took as JSON, and forgets it on DELETE", async () => {
    await send({ message: message() });
    const listed = (await (await page("/messages")).json()) as ReceivedUnisenderGoMessage[];
    expect(listed).toMatchObject([
      { message: { subject: "Тема", from_email: "noreply@example.ru" }, emails: ["ivan@example.com"] },
    ]);
    expect((await page("/messages", { method: "DELETE" })).status).toBe(204);
    expect(await (await page("/messages")).json()).toEqual([]);
    expect(await (await page("/webhooks")).json()).toEqual([]);
  });

  it("escapes everything a message brings onto its HTML page", async () => {
    await send({
      message: message({ subject: HOSTILE_EMAIL.subject, recipients: [{ email: HOSTILE_EMAIL.address }] }),
    });
    await expectHostileEmailEscaped(`${peer.httpUrl}/`);
  });

  it("switches its fault over HTTP and refuses a fault it does not know", async () => {
    const switched = await page("/fault", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mode: "rate-limit", retryAfterSeconds: 3 }),
    });
    expect(switched.status).toBe(200);
    expect(await switched.json()).toEqual({ mode: "rate-limit", retryAfterSeconds: 3 });
    const limited = await fetch(`${peer.url}/ru/transactional/api/v1/email/send.json`, {
      method: "POST",
      headers: { "x-api-key": apiKey },
      body: JSON.stringify({ message: message() }),
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");

    await expectNotFaultsRefused(`${peer.httpUrl}/fault`);
    expect(peer.fault()).toEqual({ mode: "rate-limit", retryAfterSeconds: 3 });
  });
});
