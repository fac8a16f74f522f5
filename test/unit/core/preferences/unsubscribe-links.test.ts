import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { UnsubscribeLinks } from "../../../../core/preferences/index.ts";

const links = new UnsubscribeLinks(Buffer.alloc(32, 7), "https://notify.example.ru/");
const scope = { userId: "user-42", type: "weekly_digest", channel: "email" as const };

function tokenOf(url: string | undefined): string {
  return String(url).slice(String(url).lastIndexOf("/") + 1);
}

describe("UnsubscribeLinks", () => {
  it("makes a link under the public address that opens to its scope", () => {
    const url = links.urlFor(scope);
    expect(url).toMatch(
      /^https:\/\/notify\.example\.ru\/api\/v1\/notifications\/unsubscribe\/[\w-]+\.[\w-]+$/,
    );
    expect(links.open(tokenOf(url))).toEqual(scope);
  });

  it("names the message the link came in, and still opens links made before they named one", () => {
    const named = { ...scope, messageId: "6f1c2f9e-4a51-4d7b-9a59-0c8e7f3b2a10" };
    expect(links.open(tokenOf(links.urlFor(named)))).toEqual(named);
    expect(links.open(tokenOf(links.urlFor(scope)))).toEqual(scope);
  });

  it("refuses a token changed anywhere, signed with another key, or not a token at all", () => {
    const token = tokenOf(links.urlFor(scope));
    const [body, signature] = token.split(".") as [string, string];
    const otherUser = Buffer.from(JSON.stringify(["user-43", "weekly_digest", "email"])).toString(
      "base64url",
    );
    expect(links.open(`${otherUser}.${signature}`)).toBeUndefined();
    expect(links.open(`${body}.${signature.slice(0, -2)}AA`)).toBeUndefined();
    expect(links.open(`${body}.${signature}.extra`)).toBeUndefined();
    expect(links.open(body)).toBeUndefined();
    expect(links.open("")).toBeUndefined();
    const otherKey = new UnsubscribeLinks(Buffer.alloc(32, 8), "https://notify.example.ru");
    expect(otherKey.open(token)).toBeUndefined();
  });

  it("refuses a well-signed token whose scope is not one (an unknown channel)", () => {
    const body = Buffer.from(JSON.stringify(["user-42", "t", "fax"])).toString("base64url");
    const signature = createHmac("sha256", Buffer.alloc(32, 7))
      .update(`unsubscribe:${body}`)
      .digest()
      .subarray(0, 16)
      .toString("base64url");
    expect(links.open(`${body}.${signature}`)).toBeUndefined();
    const good = Buffer.from(JSON.stringify(["user-42", "t", "email"])).toString("base64url");
    const goodSignature = createHmac("sha256", Buffer.alloc(32, 7))
      .update(`unsubscribe:${good}`)
      .digest()
      .subarray(0, 16)
      .toString("base64url");
    expect(links.open(`${good}.${goodSignature}`)).toEqual({
      userId: "user-42",
      type: "t",
      channel: "email",
    });
  });

  it("makes no link for a user whose preferences cannot be kept", () => {
    const onlyKept = new UnsubscribeLinks(Buffer.alloc(32, 7), "https://x", (userId) => userId !== "guest");
    expect(onlyKept.urlFor({ ...scope, userId: "guest" })).toBeUndefined();
    expect(onlyKept.urlFor(scope)).toMatch(/^https:\/\/x\//);
  });

  it("wants a key of 32 bytes at least", () => {
    expect(() => new UnsubscribeLinks(Buffer.alloc(16), "https://x")).toThrow(/at least 32 bytes/);
  });
});
