import { randomUUID } from "node:crypto";
import { ClickHouseError, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { afterAll, describe, expect, it } from "vitest";
import { localServices } from "../support/services.ts";

// Against the local ClickHouse (scripts/services up clickhouse) through
// @clickhouse/client over HTTP, as the service talks to it: DDL, both insert
// formats the service can use, server-side parameter binding (values that would
// break naive quoting included), sessions, error codes and HTTP compression.

const url = localServices().clickhouseUrl;
const table = `test_events_${randomUUID().replaceAll("-", "")}`;
// The client logs every failed request; the failures here are the expected ones.
const log = { level: ClickHouseLogLevel.OFF };
const client = createClient({ url, log });

// Both quoting styles and backslashes in front of quotes: if any layer spliced the
// value into SQL, the statement would break or match something else.
const awkward = `it's a "test" \\' with a backslash \\ and '' doubled`;

afterAll(async () => {
  await client.command({ query: `DROP TABLE IF EXISTS ${table}` });
  await client.close();
});

async function rows<T = unknown>(query: string, query_params?: Record<string, unknown>): Promise<T[]> {
  const result = await client.query({ query, query_params, format: "JSONEachRow" });
  return result.json<T>();
}

describe("ClickHouse over its HTTP interface", () => {
  it("answers ping, on /ping and with a query", async () => {
    expect(await client.ping()).toEqual({ success: true });
    expect(await client.ping({ select: true })).toEqual({ success: true });
  });

  it("creates a MergeTree table partitioned by month", async () => {
    await client.command({
      query: `CREATE TABLE ${table} (id UInt32, name String, created_at DateTime('UTC'), tags Array(String))
              ENGINE = MergeTree PARTITION BY toYYYYMM(created_at) ORDER BY id`,
    });
    expect(
      await rows(
        "SELECT engine, partition_key FROM system.tables WHERE database = currentDatabase() AND name = {table:String}",
        { table },
      ),
    ).toEqual([{ engine: "MergeTree", partition_key: "toYYYYMM(created_at)" }]);
  });

  it("inserts JSONEachRow rows", async () => {
    const result = await client.insert({
      table,
      format: "JSONEachRow",
      values: [
        { id: 1, name: "plain", created_at: "2024-01-15 10:00:00", tags: ["a"] },
        { id: 2, name: awkward, created_at: "2024-01-20 12:30:00", tags: ["it's", "back\\slash"] },
      ],
    });
    expect(result.executed).toBe(true);
    expect(result.summary?.written_rows).toBe("2");
  });

  it("inserts in the client's default format, JSONCompactEachRow", async () => {
    // No format: the client sends `INSERT INTO t FORMAT JSONCompactEachRow` and one array per row.
    await client.insert({ table, values: [[3, "compact", "2024-02-01 08:00:00", []]] });
    expect(await rows(`SELECT id FROM ${table} ORDER BY id`)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(
      await rows(
        "SELECT DISTINCT partition FROM system.parts WHERE database = currentDatabase() AND table = {table:String} AND active ORDER BY partition",
        { table },
      ),
    ).toEqual([{ partition: "202401" }, { partition: "202402" }]);
  });

  it("binds {id:UInt32} and {name:String} server-side, quotes and backslashes included", async () => {
    const query = `SELECT id, name FROM ${table} WHERE id = {id:UInt32} AND name = {name:String}`;
    expect(await rows(query, { id: 2, name: awkward })).toEqual([{ id: 2, name: awkward }]);
    expect(await rows(query, { id: 2, name: "' OR 1 = 1 --" })).toEqual([]);
    expect(await rows("SELECT {s:String} AS s", { s: "tab\there\nnew line\\N \u00e9\u{1f600}" })).toEqual([
      { s: "tab\there\nnew line\\N \u00e9\u{1f600}" },
    ]);
    expect(await rows("SELECT {s:Nullable(String)} AS s", { s: null })).toEqual([{ s: null }]);
  });

  it("binds a DateTime and arrays from query_params", async () => {
    expect(
      await rows(
        `SELECT id FROM ${table} WHERE created_at >= {since:DateTime('UTC')} AND id IN {ids:Array(UInt32)} ORDER BY id`,
        { since: new Date("2024-01-20T12:30:00Z"), ids: [1, 2, 3] },
      ),
    ).toEqual([{ id: 2 }, { id: 3 }]);
    expect(
      await rows(`SELECT id FROM ${table} WHERE hasAny(tags, {tags:Array(String)})`, {
        tags: ["back\\slash", "x'y"],
      }),
    ).toEqual([{ id: 2 }]);
  });

  it("applies settings sent as URL parameters", async () => {
    const query = "SELECT toUInt64(9007199254740993) AS big";
    const quoted = await client.query({
      query,
      format: "JSONEachRow",
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
    });
    expect(await quoted.json()).toEqual([{ big: "9007199254740993" }]);
    const unquoted = await client.query({
      query,
      format: "JSONEachRow",
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    expect(await unquoted.text()).toBe('{"big":9007199254740993}\n');
  });

  it("keeps a session's temporary table across requests with the same session_id", async () => {
    const session_id = randomUUID();
    await client.command({ query: "CREATE TEMPORARY TABLE scratch (x UInt8)", session_id });
    await client.insert({ table: "scratch", values: [[7]], session_id });
    const result = await client.query({ query: "SELECT x FROM scratch", format: "JSONEachRow", session_id });
    expect(await result.json()).toEqual([{ x: 7 }]);
    // Outside the session the table does not exist.
    await expect(client.query({ query: "SELECT x FROM scratch" })).rejects.toMatchObject({ code: "60" });
  });

  it("rejects an unknown table with ClickHouseError 60 (UNKNOWN_TABLE)", async () => {
    const failure = client.query({ query: `SELECT * FROM ${table}_missing` });
    await expect(failure).rejects.toBeInstanceOf(ClickHouseError);
    await expect(failure).rejects.toMatchObject({ code: "60", type: "UNKNOWN_TABLE" });
  });

  it("rejects a syntax error with ClickHouseError 62 (SYNTAX_ERROR)", async () => {
    const failure = client.command({ query: `SELEC id FROM ${table}` });
    await expect(failure).rejects.toBeInstanceOf(ClickHouseError);
    // Only the code: the client takes the first "(UPPERCASE)" group of the message as
    // its type, here the "(SELEC)" that quotes the query, as it does with a real server.
    await expect(failure).rejects.toMatchObject({ code: "62" });
    await expect(client.command({ query: "SELECT 1; SELECT 2" })).rejects.toMatchObject({ code: "62" });
  });

  it("compresses responses and accepts compressed requests with gzip", async () => {
    const gzip = createClient({ url, log, compression: { response: true, request: true } });
    try {
      await gzip.insert({ table, values: [[4, "gzipped", "2024-02-02 00:00:00", ["z"]]] });
      const result = await gzip.query({
        query: `SELECT id, name FROM ${table} WHERE id = {id:UInt32}`,
        query_params: { id: 4 },
        format: "JSONEachRow",
      });
      expect(result.response_headers["content-encoding"]).toBe("gzip");
      expect(await result.json()).toEqual([{ id: 4, name: "gzipped" }]);
      // Errors come back compressed too and still parse.
      await expect(gzip.query({ query: `SELECT * FROM ${table}_missing` })).rejects.toMatchObject({
        code: "60",
      });
    } finally {
      await gzip.close();
    }
  });

  it("drops the table", async () => {
    await client.command({ query: `DROP TABLE ${table}` });
    expect(await rows("EXISTS TABLE {table:Identifier}", { table })).toEqual([{ result: 0 }]);
  });
});
