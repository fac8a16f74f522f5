import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fingerprint } from "../../../core/personal-data.ts";
import {
  parseUnisenderGoWebhook,
  UnisenderGoProvider,
  type UnisenderGoProviderOptions,
} from "../../../dispatch/index.ts";
import {
  signUnisenderGoWebhook,
  startUnisenderGoPeer,
  type UnisenderGoFailedEmailCode,
  type UnisenderGoPeer,
} from "../../../scripts/provider-peers/index.ts";
import {
  EMAIL_RECIPIENT,
  email,
  type HttpReceiver,
  resetPeersBeforeEach,
  startHttpReceiver,
} from "../../support/provider-peers.ts";
import { freePort } from "../../support/service-process.ts";

// The Unisender Go provider against a stand-in for its Web API on a local port
// (scripts/provider-peers), which checks requests as the API does, misbehaves when told to, and
// calls a webhook (a small HTTP server here) with signed status events.
const apiKey = "6d3f0c1e9a7b4e2d8c5a1f0e3b7d9c2a";
const providerName = "unisender-test";

let peer: UnisenderGoPeer;
/** Our side of the webhook: the bodies that came, and the statuses it answers with next (200 once they run out). */
let sink: HttpReceiver;
const answers: number[] = [];
const providers: UnisenderGoProvider[] = [];

beforeAll(async () => {
  sink = await startHttpReceiver("/webhooks/unisender-go", () => ({ status: answers.shift() ?? 200 }));
  peer = await startUnisenderGoPeer({ apiKey, webhookUrl: sink.url, webhookDelayMs: 20 });
});
afterAll(async () => {
  await Promise.all([peer.close(), sink.close()]);
});
resetPeersBeforeEach(() => [peer]);
beforeEach(() => {
  sink.bodies.length = 0;
  answers.length = 0;
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.close()));
});

function unisender(overrides: Partial<UnisenderGoProviderOptions> = {}): UnisenderGoProvider {
  const provider = new UnisenderGoProvider({
    name: providerName,
    apiKey,
    baseUrl: peer.url,
    tls: { ca: peer.ca },
    from: { address: "noreply@notify.example.ru", name: "Сервис уведомлений" },
    timeoutMs: 5_000,
    ...overrides,
  });
  providers.push(provider);
  return provider;
}

/** The webhook bodies that name `jobId`, once `count` of them came. */
async function webhookBodiesOf(jobId: string, count = 1): Promise<string[]> {
  const of = () => sink.bodies.filter((body) => body.includes(`"job_id":"${jobId}"`));
  await expect.poll(() => of().length, { timeout: 5_000 }).toBe(count);
  return of();
}

describe("UnisenderGoProvider", () => {
  it("sends one recipient with our id as idempotence key and metadata, UTF-8 text and HTML, and our one-click unsubscribe", async () => {
    const message = email({
      unsubscribeUrl: "https://notify.example.ru/api/v1/notifications/unsubscribe/abc.def",
    });
    const outcome = await unisender({ replyTo: "support@notify.example.ru" }).send(message);

    const [received] = peer.messages();
    expect(peer.messages()).toHaveLength(1);
    expect(outcome).toEqual({ status: "sent", providerMessageId: received?.jobId });
    expect(received?.message).toEqual({
      recipients: [{ email: EMAIL_RECIPIENT, metadata: { message_id: message.messageId } }],
      subject: "Заказ A-1 оплачен",
      from_email: "noreply@notify.example.ru",
      from_name: "Сервис уведомлений",
      reply_to: "support@notify.example.ru",
      body: {
        plaintext: "Здравствуйте, Иван!\nСпасибо за покупку.",
        html: "<p>Здравствуйте, <b>Иван</b>!</p><p>Спасибо за покупку.</p>",
      },
      headers: {
        "X-Notification-Id": message.messageId,
        "List-Unsubscribe": `<${message.unsubscribeUrl}>`,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      },
      idempotence_key: message.messageId,
      track_links: 0,
      track_read: 0,
      skip_unsubscribe: 1,
    });
  });

  it("sends text alone when there is no HTML, and keeps Unisender Go's own unsubscribe link without ours", async () => {
    const message = email({ bodyHtml: "" });
    expect((await unisender().send(message)).status).toBe("sent");
    const sent = peer.messages()[0]?.message;
    expect(sent?.body).toEqual({ plaintext: message.body });
    expect(sent?.headers).toEqual({ "X-Notification-Id": message.messageId });
    expect(sent?.skip_unsubscribe).toBe(0);
    expect(sent?.from_name).toBe("Сервис уведомлений");
    expect(sent?.reply_to).toBeUndefined();
  });

  it("answers a resend of the same message with the same job, without a second message", async () => {
    const provider = unisender();
    const message = email();
    const first = await provider.send(message);
    const again = await provider.send(message);
    expect(first.status).toBe("sent");
    expect(again).toEqual(first);
    expect(peer.messages()).toHaveLength(1);
    const another = await provider.send(email());
    expect(another.status === "sent" && another.providerMessageId).not.toBe(
      first.status === "sent" && first.providerMessageId,
    );
    expect(peer.messages()).toHaveLength(2);
  });

  it("turns each failed_emails code into the outcome it means, without the address", async () => {
    const expected: Record<
      UnisenderGoFailedEmailCode,
      { retryable: boolean; destinationGone?: boolean } | "sent"
    > = {
      invalid: { retryable: false, destinationGone: true },
      permanent_unavailable: { retryable: false, destinationGone: true },
      unsubscribed: { retryable: false },
      complained: { retryable: false },
      blocked: { retryable: false },
      temporary_unavailable: { retryable: true },
      duplicate: "sent",
    };
    const provider = unisender();
    for (const [code, meaning] of Object.entries(expected) as [
      UnisenderGoFailedEmailCode,
      typeof expected.invalid,
    ][]) {
      const to = `${code}.user@example.com`;
      peer.refuse(to, code);
      const outcome = await provider.send(email({}, to));
      const jobId = peer.messages().at(-1)?.jobId;
      expect(peer.messages().at(-1)?.failedEmails, code).toEqual({ [to]: code });
      if (meaning === "sent") {
        expect(outcome, code).toEqual({ status: "sent", providerMessageId: jobId });
        continue;
      }
      expect(outcome, code).toEqual({
        status: "failed",
        reason: `failed_emails: ${code} (job ${jobId})`,
        ...meaning,
      });
    }
  });

  it("fails retryable when the key is refused, wrong or by the peer's auth fault: ours to fix, failover may work", async () => {
    const wrongKey = await unisender({ apiKey: "not-the-key" }).send(email());
    expect(wrongKey).toEqual({
      status: "failed",
      reason: "HTTP 401: Can not decode key (code 401)",
      retryable: true,
    });
    peer.setFault({ mode: "auth" });
    expect(await unisender().send(email())).toEqual({
      status: "failed",
      reason: "HTTP 401: Can not decode key (code 401)",
      retryable: true,
    });
    expect(peer.messages()).toEqual([]);
  });

  it("fails retryable on 5xx, and on 429 with Retry-After as retryAfterMs", async () => {
    peer.setFault({ mode: "5xx" });
    expect(await unisender().send(email())).toEqual({
      status: "failed",
      reason: "HTTP 500: Internal server error (code 500)",
      retryable: true,
    });
    peer.setFault({ mode: "rate-limit", retryAfterSeconds: 7 });
    expect(await unisender().send(email())).toEqual({
      status: "failed",
      reason: "HTTP 429: Too many requests (code 429)",
      retryable: true,
      retryAfterMs: 7_000,
    });
    expect(peer.messages()).toEqual([]);
  });

  it("fails for good on 400, with the API's own words", async () => {
    expect(await unisender().send(email({ subject: " " }))).toEqual({
      status: "failed",
      reason: "HTTP 400: message.subject is empty (code 400)",
      retryable: false,
    });
    expect(peer.messages()).toEqual([]);
  });

  it("waits for a slow API, and gives up on a silent one once the timeout is out", async () => {
    peer.setFault({ mode: "slow", delayMs: 300 });
    let started = performance.now();
    expect((await unisender().send(email())).status).toBe("sent");
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);

    peer.setFault({ mode: "hang" });
    started = performance.now();
    const outcome = await unisender({ timeoutMs: 400 }).send(email());
    const elapsed = performance.now() - started;
    expect(outcome).toEqual({
      status: "failed",
      reason: "ETIMEDOUT: no answer within 400 ms",
      retryable: true,
    });
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(3_000);
  });

  it("fails retryable when the connection is dropped, the API is not there, or its certificate is not trusted", async () => {
    peer.setFault({ mode: "drop" });
    expect(await unisender().send(email())).toEqual({
      status: "failed",
      reason: "ECONNRESET: socket hang up",
      retryable: true,
    });
    peer.setFault({ mode: "none" });
    const nobody = await unisender({ baseUrl: `https://127.0.0.1:${await freePort()}` }).send(email());
    expect(nobody).toMatchObject({ status: "failed", retryable: true });
    expect(nobody.status === "failed" && nobody.reason).toMatch(/^ECONNREFUSED/);

    const distrusting = await unisender({ tls: {} }).send(email());
    expect(distrusting).toMatchObject({ status: "failed", retryable: true });
    expect(distrusting.status === "failed" && distrusting.reason).toMatch(/certificate/i);
    expect(peer.messages()).toHaveLength(0);
  });

  it("lets a message on its way finish when it closes, and takes no more", async () => {
    peer.setFault({ mode: "slow", delayMs: 150 });
    const provider = unisender();
    const sending = provider.send(email());
    let answered = false;
    void sending.then(() => {
      answered = true;
    });
    await provider.close();
    expect(answered).toBe(true);
    expect((await sending).status).toBe("sent");
    expect(await provider.send(email())).toEqual({
      status: "failed",
      reason: `${providerName} is closing`,
      retryable: true,
    });
    expect(peer.messages()).toHaveLength(1);
  });

  it("throws when it is handed what it cannot be meant to send", async () => {
    const provider = unisender();
    await expect(
      provider.send(email({ destination: { channel: "sms", phone: "+79991234567" } })),
    ).rejects.toThrow(/delivers email, not sms/);
    await expect(
      provider.send(email({ unsubscribeUrl: "https://x.example/u>\r\nBcc: a@b.example" })),
    ).rejects.toThrow(/not an http\(s\) URL/);
    await expect(provider.send(email({ messageId: "m".repeat(65) }))).rejects.toThrow(/idempotence key/);
    expect(peer.messages()).toEqual([]);
  });

  it("checks its configuration when it is made", () => {
    const base: UnisenderGoProviderOptions = {
      name: providerName,
      apiKey,
      from: { address: "noreply@notify.example.ru" },
    };
    expect(() => new UnisenderGoProvider({ ...base, baseUrl: "http://go1.unisender.ru" })).toThrow(
      /must be https/,
    );
    expect(() => new UnisenderGoProvider({ ...base, baseUrl: "go1" })).toThrow(/not a URL/);
    expect(() => new UnisenderGoProvider({ ...base, apiKey: "" })).toThrow(/API key/);
    expect(() => new UnisenderGoProvider({ ...base, from: { address: "noreply" } })).toThrow(/sender/);
    expect(() => new UnisenderGoProvider({ ...base, replyTo: "support" })).toThrow(/reply-to/);
    expect(() => new UnisenderGoProvider({ ...base, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});

describe("Unisender Go's webhook, from the peer", () => {
  it("parses back into a report per address with our message id, and leaves out sent and soft bounces", async () => {
    const outcomes: Record<string, "delivered" | "hard_bounced" | "soft_bounced" | "spam" | "unsubscribed"> =
      {
        "delivered@example.com": "delivered",
        "gone@example.com": "hard_bounced",
        "full@example.com": "soft_bounced",
        "annoyed@example.com": "spam",
        "leaving@example.com": "unsubscribed",
      };
    const provider = unisender();
    const from = Math.floor(Date.now() / 1000) * 1000;
    for (const [to, status] of Object.entries(outcomes)) {
      if (status !== "delivered") peer.reportAs(to, status);
      const message = email({}, to);
      const outcome = await provider.send(message);
      if (outcome.status !== "sent") throw new Error(`${to} was not sent: ${JSON.stringify(outcome)}`);
      const [body] = await webhookBodiesOf(outcome.providerMessageId);
      const parsed = parseUnisenderGoWebhook(body ?? "", apiKey, providerName);
      if ("refused" in parsed) throw new Error(`${to}: refused: ${parsed.refused}`);

      const base = { provider: providerName, providerMessageId: outcome.providerMessageId };
      const expectedReport = {
        delivered: { ...base, kind: "delivered" },
        hard_bounced: {
          ...base,
          kind: "failed",
          permanent: true,
          reason: `hard_bounced: err_user_unknown: 550 5.1.1 <${fingerprint(to)}>: Recipient address rejected: User unknown`,
        },
        soft_bounced: undefined,
        spam: { ...base, kind: "complaint" },
        unsubscribed: { ...base, kind: "unsubscribed" },
      }[status];
      const sentLeftOut = `sent of job ${outcome.providerMessageId}: not reported yet`;
      if (!expectedReport) {
        expect(parsed.events, to).toEqual([]);
        expect(parsed.ignored, to).toEqual([
          sentLeftOut,
          `soft_bounced of job ${outcome.providerMessageId}: not reported yet`,
        ]);
        continue;
      }
      expect(parsed.events, to).toEqual([
        { report: { ...expectedReport, at: expect.any(Date) }, messageId: message.messageId },
      ]);
      const at = parsed.events[0]?.report.at.getTime() ?? 0;
      expect(at, to).toBeGreaterThanOrEqual(from);
      expect(at, to).toBeLessThanOrEqual(Date.now());
      expect(parsed.ignored, to).toEqual([sentLeftOut]);
      expect(JSON.stringify(parsed), to).not.toContain(to);
    }
  });

  it("calls again until it is answered 200, with the same signed body", async () => {
    answers.push(204, 503);
    const outcome = await unisender().send(email());
    if (outcome.status !== "sent") throw new Error(JSON.stringify(outcome));
    const bodies = await webhookBodiesOf(outcome.providerMessageId, 3);
    expect(new Set(bodies).size).toBe(1);
    await expect
      .poll(() => peer.webhookCalls().map((call) => [call.attempt, call.status]))
      .toEqual([
        [1, 204],
        [2, 503],
        [3, 200],
      ]);
    const parsed = parseUnisenderGoWebhook(bodies[0] ?? "", apiKey, providerName);
    expect("events" in parsed && parsed.events.map((event) => event.report.kind)).toEqual(["delivered"]);
  });

  it("refuses a call that was altered, signed with another key, unsigned, or not JSON", async () => {
    const outcome = await unisender().send(email());
    if (outcome.status !== "sent") throw new Error(JSON.stringify(outcome));
    const [body = ""] = await webhookBodiesOf(outcome.providerMessageId);
    expect(parseUnisenderGoWebhook(body, apiKey, providerName)).toHaveProperty("events");

    const altered = body.replace('"status":"delivered"', '"status":"spam"');
    expect(altered).not.toBe(body);
    expect(parseUnisenderGoWebhook(altered, apiKey, providerName)).toEqual({
      refused: "auth does not match the body signed with our API key",
    });
    expect(parseUnisenderGoWebhook(body, "another-key", providerName)).toEqual({
      refused: "auth does not match the body signed with our API key",
    });
    const { auth: _, ...unsigned } = JSON.parse(body) as Record<string, unknown>;
    expect(
      parseUnisenderGoWebhook(signUnisenderGoWebhook(unsigned, "another-key"), apiKey, providerName),
    ).toEqual({
      refused: "auth does not match the body signed with our API key",
    });
    expect(parseUnisenderGoWebhook(JSON.stringify(unsigned), apiKey, providerName)).toEqual({
      refused: "the body has no auth field",
    });
    expect(parseUnisenderGoWebhook(`${body.slice(0, -1)}`, apiKey, providerName)).toEqual({
      refused: "the body is not JSON",
    });
  });
});
