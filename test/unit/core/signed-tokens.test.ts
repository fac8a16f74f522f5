import { describe, expect, it } from "vitest";
import { SignedTokens } from "../../../core/signed-tokens.ts";

const tokens = new SignedTokens(Buffer.alloc(32, 1));

describe("SignedTokens", () => {
  it("opens what it sealed, for the same purpose only", () => {
    const token = tokens.seal("tracking-click", ["id", 1, "https://example.ru/"]);
    expect(token).toMatch(/^[\w-]+\.[\w-]{22}$/);
    expect(tokens.open("tracking-click", token)).toEqual(["id", 1, "https://example.ru/"]);
    expect(tokens.open("tracking-open", token)).toBeUndefined();
  });

  it("refuses a changed byte, another key's token and what is no token", () => {
    const token = tokens.seal("p", { a: 1 });
    const [body, signature] = token.split(".") as [string, string];
    const flipped = (text: string, at: number) =>
      `${text.slice(0, at)}${text[at] === "A" ? "B" : "A"}${text.slice(at + 1)}`;
    expect(tokens.open("p", `${flipped(body, 3)}.${signature}`)).toBeUndefined();
    expect(tokens.open("p", `${body}.${flipped(signature, 5)}`)).toBeUndefined();
    // The last character carries 2 bits of the 16 bytes: its other spellings decode alike.
    expect(tokens.open("p", `${body}.${flipped(signature, signature.length - 1)}`)).toBeUndefined();
    expect(new SignedTokens(Buffer.alloc(32, 2)).open("p", token)).toBeUndefined();
    for (const bad of ["", body, `${token}.x`, `.${signature}`, `${body}.`]) {
      expect(tokens.open("p", bad)).toBeUndefined();
    }
  });

  it("needs a key of 32 bytes at least", () => {
    expect(() => new SignedTokens(Buffer.alloc(31))).toThrow(/at least 32 bytes/);
  });
});
