import { describe, expect, it } from "vitest";
import { TrackingLinks } from "../../../../core/tracking/index.ts";

const links = new TrackingLinks(Buffer.alloc(32, 3), "https://notify.example.ru/");
const messageId = "0f8fad5b-d9cb-469f-a165-70867728950e";
const at = new Date("2026-12-01T10:00:00Z");
const tokenOf = (url: string) => url.slice(url.lastIndexOf("/") + 1);

/** The token with its body's JSON value replaced, the signature kept. */
function rewritten(token: string, change: (value: unknown[]) => unknown[]): string {
  const [body, signature] = token.split(".") as [string, string];
  const value = JSON.parse(Buffer.from(body, "base64url").toString()) as unknown[];
  return `${Buffer.from(JSON.stringify(change(value))).toString("base64url")}.${signature}`;
}

describe("tracking links", () => {
  it("are the public address's /t/o and /t/c, and read back to their message, time and target", () => {
    const open = links.openUrl(messageId, at);
    const click = links.clickUrl(messageId, "https://shop.example/a?b=1", at);
    expect(open).toMatch(/^https:\/\/notify\.example\.ru\/api\/v1\/notifications\/t\/o\/[\w-]+\.[\w-]+$/);
    expect(click).toMatch(/^https:\/\/notify\.example\.ru\/api\/v1\/notifications\/t\/c\/[\w-]+\.[\w-]+$/);
    expect(links.read("open", tokenOf(open))).toEqual({ kind: "open", messageId, madeAt: at });
    expect(links.read("click", tokenOf(click))).toEqual({
      kind: "click",
      messageId,
      madeAt: at,
      target: "https://shop.example/a?b=1",
    });
  });

  it("refuse a token of the other kind, a tampered one, another target or message, and another key's", () => {
    const open = tokenOf(links.openUrl(messageId, at));
    const click = tokenOf(links.clickUrl(messageId, "https://shop.example/", at));
    expect(links.read("click", open)).toBeUndefined();
    expect(links.read("open", click)).toBeUndefined();
    const [body, signature] = click.split(".") as [string, string];
    expect(
      links.read("click", `${body}.${signature.replace(/^./, (c) => (c === "A" ? "B" : "A"))}`),
    ).toBeUndefined();
    expect(
      links.read(
        "click",
        rewritten(click, ([id, time]) => [id, time, "https://evil.example/"]),
      ),
    ).toBeUndefined();
    expect(
      links.read(
        "click",
        rewritten(click, ([, time, target]) => ["1b4e28ba-2fa1-11d2-883f-0016d3cca427", time, target]),
      ),
    ).toBeUndefined();
    expect(
      new TrackingLinks(Buffer.alloc(32, 4), "https://notify.example.ru").read("click", click),
    ).toBeUndefined();
    expect(links.read("click", "not-a-token")).toBeUndefined();
  });

  it("know the service's own addresses, which are never wrapped", () => {
    expect(links.isOwn("https://notify.example.ru/api/v1/notifications/unsubscribe/x.y")).toBe(true);
    expect(links.isOwn("https://notify.example.ru.evil.example/api/v1/notifications/")).toBe(false);
    expect(links.isOwn("https://shop.example/")).toBe(false);
  });
});
