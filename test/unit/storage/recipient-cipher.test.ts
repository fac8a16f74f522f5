import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { RecipientCipher } from "../../../storage/index.ts";

const keyA = { id: "2026-11", secret: randomBytes(32) };
const keyB = { id: "2026-12", secret: randomBytes(32) };
const lookup = randomBytes(32);

describe("RecipientCipher", () => {
  it("seals an address so that only its own row's message id opens it", () => {
    const cipher = new RecipientCipher(keyA, [], lookup);
    const sealed = cipher.seal("ivan@example.com", "m-1");
    expect(sealed).not.toContain("ivan");
    expect(sealed.startsWith("2026-11.")).toBe(true);
    expect(cipher.seal("ivan@example.com", "m-1")).not.toBe(sealed);
    expect(cipher.open(sealed, "m-1")).toBe("ivan@example.com");
    expect(() => cipher.open(sealed, "m-2")).toThrow();
  });

  it("never seals with the same IV twice, across its draws of random bytes", () => {
    const cipher = new RecipientCipher(keyA, [], lookup);
    const ivs = new Set<string>();
    // More seals than one draw of IVs holds.
    for (let index = 0; index < 3_000; index++) {
      const sealed = cipher.seal("ivan@example.com", `m-${index}`);
      ivs.add(sealed.split(".")[1] as string);
      if (index % 500 === 0) expect(cipher.open(sealed, `m-${index}`)).toBe("ivan@example.com");
    }
    expect(ivs.size).toBe(3_000);
  });

  it("refuses a value changed at rest", () => {
    const cipher = new RecipientCipher(keyA, [], lookup);
    const [id, iv, data, tag] = cipher.seal("+79991234567", "m-1").split(".") as [
      string,
      string,
      string,
      string,
    ];
    const flipped = Buffer.from(data, "base64url");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => cipher.open([id, iv, flipped.toString("base64url"), tag].join("."), "m-1")).toThrow();
    expect(() => cipher.open("not sealed", "m-1")).toThrow(/not a sealed recipient/);
  });

  it("opens what an older key sealed after a rotation, and seals with the new one", () => {
    const before = new RecipientCipher(keyA, [], lookup);
    const sealed = before.seal("fcm-token-123", "m-1");
    const after = new RecipientCipher(keyB, [keyA], lookup);
    expect(after.open(sealed, "m-1")).toBe("fcm-token-123");
    expect(after.sealedWithOlderKey(sealed)).toBe(true);
    expect(after.sealedWithOlderKey(after.seal("x", "m-1"))).toBe(false);
    const withoutA = new RecipientCipher(keyB, [], lookup);
    expect(() => withoutA.open(sealed, "m-1")).toThrow(/key 2026-11, which is not configured/);
  });

  it("hashes for lookups with its key: stable, and unlike another key's", () => {
    const cipher = new RecipientCipher(keyA, [], lookup);
    expect(cipher.lookupHash("ivan@example.com")).toBe(cipher.lookupHash("ivan@example.com"));
    expect(cipher.lookupHash("ivan@example.com")).toMatch(/^[0-9a-f]{64}$/);
    expect(new RecipientCipher(keyA, [], randomBytes(32)).lookupHash("ivan@example.com")).not.toBe(
      cipher.lookupHash("ivan@example.com"),
    );
  });

  it("refuses keys it cannot use", () => {
    expect(() => new RecipientCipher({ id: "k", secret: randomBytes(16) }, [], lookup)).toThrow(/32 bytes/);
    expect(() => new RecipientCipher({ id: "a.b", secret: randomBytes(32) }, [], lookup)).toThrow(/key id/);
    expect(() => new RecipientCipher(keyA, [keyA], lookup)).toThrow(/two keys have the id/);
    expect(() => new RecipientCipher(keyA, [], randomBytes(8))).toThrow(/lookup key/);
  });
});
