import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReceivedEmail, type SmtpPeer, startSmtpPeer } from "../../../scripts/provider-peers/index.ts";
import {
  expectHostileEmailEscaped,
  expectNotFaultsRefused,
  HOSTILE_EMAIL,
  resetPeersBeforeEach,
} from "../../support/provider-peers.ts";

// The SMTP peer's own surface: what it keeps, and its HTTP page. A plain nodemailer client
// stands in for any sender.
let peer: SmtpPeer;
beforeAll(async () => {
  peer = await startSmtpPeer({ remember: 3 });
});
afterAll(() => peer.close());
resetPeersBeforeEach(() => [peer]);

async function send(subject: string, to = "ivan@example.com"): Promise<void> {
  const client = createTransport({
    host: peer.host,
    port: peer.port,
    requireTLS: true,
    tls: { ca: peer.ca },
    auth: { user: "dev", pass: "dev" },
  });
  try {
    await client.sendMail({ from: "noreply@example.ru", to, subject, text: "Текст письма" });
  } finally {
    client.close();
  }
}

const page = (path: string, init?: RequestInit): Promise<Response> => fetch(`${peer.httpUrl}${path}`, init);

describe("SMTP peer", () => {
  it("lists what it received as JSON, and forgets it on DELETE", async () => {
    await send("Первое письмо");
    const response = await page("/messages");
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const listed = (await response.json()) as ReceivedEmail[];
    expect(listed).toMatchObject([
      {
        subject: "Первое письмо",
        text: "Текст письма",
        envelope: { from: "noreply@example.ru", to: ["ivan@example.com"] },
        secure: true,
        user: "dev",
      },
    ]);
    expect((await page("/messages", { method: "DELETE" })).status).toBe(204);
    expect(await (await page("/messages")).json()).toEqual([]);
    expect(peer.messages()).toEqual([]);
  });

  it("escapes everything a message brings onto its HTML page", async () => {
    await send(HOSTILE_EMAIL.subject, HOSTILE_EMAIL.address);
    await expectHostileEmailEscaped(`${peer.httpUrl}/`);
  });

  it("switches its fault over HTTP and refuses a fault it does not know", async () => {
    const switched = await page("/fault", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mode: "tempfail-4xx", at: "data" }),
    });
    expect(switched.status).toBe(200);
    expect(await switched.json()).toEqual({ mode: "tempfail-4xx", at: "data" });
    expect(peer.fault()).toEqual({ mode: "tempfail-4xx", at: "data" });
    await expect(send("refused")).rejects.toMatchObject({ responseCode: 451 });

    await expectNotFaultsRefused(`${peer.httpUrl}/fault`);
    expect(peer.fault()).toEqual({ mode: "tempfail-4xx", at: "data" });
    expect((await page("/fault", { method: "PUT" })).status).toBe(405);
    expect((await page("/nothing")).status).toBe(404);
  });

  it("marks addresses to bounce after their 250 over HTTP, and mails their report to the sender's mailbox", async () => {
    const marked = await page("/bounces", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        addresses: ["Gone@example.com"],
        status: "5.2.1",
        diagnostic: "550 5.2.1 disabled",
      }),
    });
    expect([marked.status, await marked.json()]).toEqual([
      200,
      { addresses: ["Gone@example.com"], bounce: { status: "5.2.1", diagnostic: "550 5.2.1 disabled" } },
    ]);
    await send("Отскочит", "gone@example.com");
    expect(peer.messages()).toHaveLength(1);
    const report = await peer.bounces.waitFor(() => true, 2_000);
    expect(report.raw).toMatch(/^To: noreply@example\.ru\r$/m);
    expect(report.raw).toContain("\r\nAction: failed\r\nStatus: 5.2.1\r\n");
    expect(report.raw).toContain("\r\nDiagnostic-Code: smtp; 550 5.2.1 disabled\r\n");
    // No RET=HDRS from this client: the whole message comes back, as Postfix returns it.
    expect(report.raw).toContain("\r\nContent-Type: message/rfc822\r\n");
    expect(report.raw).toContain(Buffer.from("Текст письма").toString("base64"));
    expect(await (await page("/bounces")).json()).toEqual([report]);

    for (const refused of [
      { addresses: [] },
      { addresses: ["x@example.com"], action: "bounced" },
      { addresses: ["x@example.com"], status: "2.0.0" },
      { addresses: ["x@example.com"], action: "delayed", status: "5.1.1" },
      { addresses: ["x@example.com"], color: "red" },
    ]) {
      const answer = await page("/bounces", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(refused),
      });
      expect(answer.status, JSON.stringify(refused)).toBe(400);
    }
    peer.bounces.clear();
  });

  it("waits for a message to come, and keeps only the newest ones", async () => {
    const coming = peer.waitFor((message) => message.subject === "Ожидаемое");
    await send("Другое");
    await send("Ожидаемое");
    expect((await coming).subject).toBe("Ожидаемое");
    await expect(peer.waitFor((message) => message.subject === "Никогда", 50)).rejects.toThrow(
      /within 50 ms/,
    );

    await send("Третье");
    await send("Четвёртое");
    expect(peer.messages().map((message) => message.subject)).toEqual(["Ожидаемое", "Третье", "Четвёртое"]);
  });

  it("delays every answer when slow", async () => {
    peer.setFault({ mode: "slow", delayMs: 100 });
    const started = performance.now();
    await send("Медленно");
    // Greeting, AUTH, MAIL, RCPT and the end of DATA each wait.
    expect(performance.now() - started).toBeGreaterThanOrEqual(490);
    expect(peer.messages()).toHaveLength(1);
  });
});
