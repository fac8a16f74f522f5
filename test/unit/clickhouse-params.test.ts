import { describe, expect, it } from "vitest";
import { collectQueryParameters, isQueryParameter } from "../../scripts/clickhouse-http/params.ts";
import { quoteIdentifier, quoteString } from "../../scripts/clickhouse-http/sql.ts";

// The local ClickHouse front (scripts/clickhouse-http) hands query parameter values
// to chdb's binder exactly as they arrive, in ClickHouse's escaped text form, so the
// engine parses them by placeholder type as the server would. What can go wrong is
// on the way in: URL or form decoding that loses, adds or unescapes a byte.

// Values as @clickhouse/client's formatQueryParams writes them (the wire contract).
const wire = {
  quote: String.raw`it\'s`,
  backslash: String.raw`C:\\temp\\`,
  quoteAfterBackslash: String.raw`\\\'`,
  controls: String.raw`tab\there\nnew line\rreturn`,
  nul: "a\u0000b",
  nullMarker: String.raw`\N`,
  backslashN: String.raw`\\N`,
  urlSyntax: "a+b c&d=e%20f?g#h",
  unicode: "h\u00e9llo \u{1f600} \u4e16\u754c",
  empty: "",
  array: String.raw`['it\'s','back\\slash',NULL]`,
  map: String.raw`{'k\'ey':1,'b':2}`,
  tuple: "(42,'foo',NULL)",
  date: "1700000000.123",
};

// What the client puts on the wire: URLSearchParams encoding of `param_<name>` entries.
function overUrl(values: Record<string, string>, extra: Array<[string, string]> = []): URLSearchParams {
  const entries: Array<[string, string]> = Object.entries(values).map(([name, value]) => [
    `param_${name}`,
    value,
  ]);
  const encoded = new URLSearchParams([...extra, ...entries]).toString();
  return new URLSearchParams(encoded);
}

describe("query parameters of the local ClickHouse front", () => {
  it("keeps every value byte for byte through URL encoding, escapes still escaped", () => {
    const parameters = collectQueryParameters(overUrl(wire));
    expect({ ...parameters }).toEqual(wire);
    expect(parameters.quote).toHaveLength(5);
    expect(parameters.nullMarker).not.toBe(parameters.backslashN);
  });

  it("decodes what curl-style URLs encode by hand: %5C%09 is backslash-tab, + is a space", () => {
    const parameters = collectQueryParameters(
      new URLSearchParams("param_a=abc%5C%09123&param_b=x+y%2Bz&param_c=%00"),
    );
    expect({ ...parameters }).toEqual({ a: "abc\\\t123", b: "x y+z", c: "\u0000" });
  });

  it("takes form fields of multipart requests, the URL winning, first value of a name winning", () => {
    const parameters = collectQueryParameters(new URLSearchParams("param_id=1&param_id=2"), [
      ["param_id", "3"],
      ["param_name", "line one\r\nline two"],
      ["param_name", "later"],
      ["query", "SELECT {id:UInt32}"],
    ]);
    expect({ ...parameters }).toEqual({ id: "1", name: "line one\r\nline two" });
  });

  it("ignores settings, the query and nameless param_ entries", () => {
    const url = overUrl({ x: "1" }, [
      ["query", "SELECT {x:UInt8}"],
      ["param_", "nameless"],
      ["max_threads", "2"],
      ["session_id", "s"],
    ]);
    expect({ ...collectQueryParameters(url) }).toEqual({ x: "1" });
    expect(isQueryParameter("param_x")).toBe(true);
    expect(isQueryParameter("max_threads")).toBe(false);
  });

  it("keeps names that collide with Object.prototype as plain parameters", () => {
    const parameters = collectQueryParameters(
      overUrl({ ["__proto__"]: "p", constructor: "c", toString: "t" }),
    );
    expect(Object.getPrototypeOf(parameters)).toBeNull();
    expect(Object.keys(parameters).sort()).toEqual(["__proto__", "constructor", "toString"]);
    expect(parameters.constructor).toBe("c");
  });
});

describe("literals the front writes itself (SET for URL settings, USE for database)", () => {
  it("escapes quotes and backslashes so a value cannot leave its string literal", () => {
    expect(quoteString("plain")).toBe("'plain'");
    expect(quoteString("it's")).toBe(String.raw`'it\'s'`);
    expect(quoteString("\\")).toBe(String.raw`'\\'`);
    expect(quoteString(String.raw`\'; DROP TABLE t; --`)).toBe(String.raw`'\\\'; DROP TABLE t; --'`);
    expect(quoteString("")).toBe("''");
  });

  it("escapes backticks and backslashes in identifiers", () => {
    expect(quoteIdentifier("analytics")).toBe("`analytics`");
    expect(quoteIdentifier("we`ird")).toBe("`we\\`ird`");
    expect(quoteIdentifier("a\\`; DROP DATABASE x")).toBe("`a\\\\\\`; DROP DATABASE x`");
  });
});
