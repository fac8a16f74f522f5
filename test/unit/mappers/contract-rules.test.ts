import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RE2JS } from "@bufbuild/re2";
import { describe, expect, it } from "vitest";
import { contractPatternMatch } from "../../../mappers/index.ts";

const protoRoot = new URL("../../../proto/", import.meta.url).pathname;

function protoFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return protoFiles(path);
    return entry.name.endsWith(".proto") ? [path] : [];
  });
}

/** Every `pattern` a rule of ours declares, in either option syntax, as the compiler reads it. */
function declaredPatterns(): string[] {
  const found = new Set<string>();
  for (const file of protoFiles(protoRoot)) {
    for (const match of readFileSync(file, "utf8").matchAll(/\bpattern\s*[:=]\s*"((?:[^"\\]|\\.)*)"/g)) {
      found.add((match[1] ?? "").replace(/\\(.)/g, "$1"));
    }
  }
  return [...found].sort();
}

// A deterministic generator, so a disagreement found once is found again.
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const alphabet = [
  ..."azAZ09_-.:+~! \t\n\r",
  "\u0000",
  "\u007f",
  "é",
  "Ａ",
  "١",
  "\u2028",
  "😀",
  "\ud800",
  "\udc00",
];

function randomText(random: () => number, maxLength: number): string {
  const length = Math.floor(random() * (maxLength + 1));
  let text = "";
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}

const fixedCorpus = [
  "",
  "a",
  "A",
  "0",
  "en",
  "en-US",
  "zh-Hant-TW",
  "e",
  "EN",
  "en_US",
  "order.shipped",
  "order_shipped-2",
  ".order",
  "-order",
  "a".repeat(128),
  "a".repeat(129),
  "ORDER_SHIPPED",
  "Order",
  "+79991234567",
  "+0123456789",
  "+7999",
  "+7999123456789012",
  "79991234567",
  "fcm:token-1.2_3",
  "42",
  "x\n",
  "\nx",
  "a b",
  "naïve",
  "😀",
  "\ud800",
  "a".repeat(10_000),
  `${"a".repeat(10_000)}!`,
  "7".repeat(10_000),
];

describe("contract patterns matched natively", () => {
  const patterns = declaredPatterns();

  it("finds the patterns our protos declare", () => {
    expect(patterns).toContain("^\\+[1-9][0-9]{6,14}$");
    expect(patterns).toContain("^[A-Za-z0-9_:.\\-]+$");
    expect(patterns.length).toBeGreaterThanOrEqual(8);
  });

  it.each(patterns)("answers as RE2 does for %s", (pattern) => {
    const re2 = RE2JS.compile(pattern);
    const random = seededRandom(pattern.length);
    const corpus = [...fixedCorpus, ...Array.from({ length: 3_000 }, () => randomText(random, 24))];
    const disagreements = corpus.filter((text) => contractPatternMatch(pattern, text) !== re2.test(text));
    expect(disagreements).toEqual([]);
    expect(corpus.some((text) => re2.test(text))).toBe(true);
    expect(corpus.some((text) => !re2.test(text))).toBe(true);
  });
});
