import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fingerprint } from "../../../core/personal-data.ts";
import type { OutgoingMessage } from "../../../core/sending/index.ts";
import { ProviderRegistry, SinkProvider } from "../../../dispatch/index.ts";

const dir = mkdtempSync(join(tmpdir(), "sink-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const email = (messageId: string): OutgoingMessage => ({
  messageId,
  destination: { channel: "email", email: "ivan@example.com" },
  subject: "Заказ A-1",
  body: "Здравствуйте, Иван!",
  bodyHtml: "<p>Здравствуйте, Иван!</p>",
  priority: "high",
});

describe("SinkProvider", () => {
  it("records what it would send, once per message id, with the address only as a fingerprint", async () => {
    const file = join(dir, "sent.ndjson");
    const sink = new SinkProvider({ file, now: () => new Date("2026-12-01T10:00:00Z") });
    const first = await sink.send(email("m-1"));
    const again = await sink.send(email("m-1"));
    const other = await sink.send({
      ...email("m-2"),
      destination: { channel: "sms", phone: "+79991234567" },
    });
    expect(first).toEqual({ status: "sent", providerMessageId: "sink-1" });
    expect(again).toEqual(first);
    expect(other).toEqual({ status: "sent", providerMessageId: "sink-2" });
    await sink.close();

    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toEqual(sink.sent());
    expect(lines[0]).toEqual({
      messageId: "m-1",
      providerMessageId: "sink-1",
      channel: "email",
      to: fingerprint("ivan@example.com"),
      subject: "Заказ A-1",
      body: "Здравствуйте, Иван!",
      bodyHtml: "<p>Здравствуйте, Иван!</p>",
      at: "2026-12-01T10:00:00.000Z",
    });
    expect(readFileSync(file, "utf8")).not.toContain("ivan@example.com");
    expect(readFileSync(file, "utf8")).not.toContain("+79991234567");
  });

  it("fails when told to, as a provider outage or a refusal, and a failed message can succeed later", async () => {
    const rolls = [0.1, 0.9];
    const outage = new SinkProvider({ failRate: 0.5, random: () => rolls.shift() ?? 0.9 });
    expect(await outage.send(email("m-1"))).toEqual({
      status: "failed",
      reason: "the sink was told to fail",
      retryable: true,
    });
    expect(outage.sent()).toEqual([]);
    expect((await outage.send(email("m-1"))).status).toBe("sent");
    const refusing = new SinkProvider({ failRate: 1, failRetryable: false });
    expect(await refusing.send(email("m-2"))).toMatchObject({ status: "failed", retryable: false });
  });

  it("takes as long as it is told to", async () => {
    const slow = new SinkProvider({ latencyMs: 60 });
    const started = performance.now();
    await Promise.all([slow.send(email("a")), slow.send(email("b"))]);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(55);
    expect(slow.sent()).toHaveLength(2);
  });

  it("forgets the oldest messages beyond what it remembers", async () => {
    const sink = new SinkProvider({ remember: 2 });
    for (const id of ["a", "b", "c"]) await sink.send(email(id));
    expect(sink.sent().map((record) => record.messageId)).toEqual(["b", "c"]);
  });

  it("refuses settings that make no sense, and a channel it does not serve", async () => {
    expect(() => new SinkProvider({ failRate: 2 })).toThrow(/fail rate must be from 0 to 1/);
    expect(() => new SinkProvider({ latencyMs: -1 })).toThrow(/latency must not be negative/);
    const smsOnly = new SinkProvider({ channels: ["sms"] });
    await expect(smsOnly.send(email("x"))).rejects.toThrow(/does not serve email/);
  });
});

describe("ProviderRegistry", () => {
  it("finds providers by name and by channel in their order, and refuses two with one name", async () => {
    const primary = new SinkProvider({ name: "sink-primary", channels: ["email", "sms"] });
    const backup = new SinkProvider({ name: "sink-backup", channels: ["email"] });
    const registry = new ProviderRegistry([primary, backup]);
    expect(registry.get("sink-backup")).toBe(backup);
    expect(registry.get("unisender")).toBeUndefined();
    expect(registry.forChannel("email")).toEqual([primary, backup]);
    expect(registry.forChannel("sms")).toEqual([primary]);
    expect(registry.forChannel("push_fcm")).toEqual([]);
    await registry.close();
    expect(() => new ProviderRegistry([primary, new SinkProvider({ name: "sink-primary" })])).toThrow(
      /two providers are named "sink-primary"/,
    );
  });
});
