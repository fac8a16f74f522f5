import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClickHouseFront, startClickHouseFront } from "../support/clickhouse-front.ts";

// INSERT data never runs as SQL. The embedded engine treats a statement and its data
// as a script: it ends Values data at ';' and any data at an empty line, and runs what
// follows. Over HTTP the server runs one statement only; the front must too. Against
// this tree's front (the shared one may run another tree's code).

let front: ClickHouseFront;

async function post(
  query: string,
  body = "",
): Promise<{ status: number; code: string | null; text: string }> {
  const url = `${front.url}/?query=${encodeURIComponent(query)}`;
  const response = await fetch(url, { method: "POST", body: body === "" ? undefined : body });
  return {
    status: response.status,
    code: response.headers.get("x-clickhouse-exception-code"),
    text: await response.text(),
  };
}

async function tables(): Promise<string> {
  return (
    await post(
      "SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'data_%' ORDER BY name",
    )
  ).text;
}

beforeAll(async () => {
  front = await startClickHouseFront();
});
afterAll(async () => {
  await front?.dispose();
});

describe("INSERT data through the front", () => {
  beforeAll(async () => {
    await post("CREATE TABLE data_rows (s String) ENGINE = MergeTree ORDER BY s");
    await post("CREATE TABLE data_victim (s String) ENGINE = MergeTree ORDER BY s");
  });

  it("refuses Values data after a ';' as the server does, and runs none of it", async () => {
    const answer = await post("INSERT INTO data_rows VALUES ('a;'), ('b') ; DROP TABLE data_victim");
    expect(answer).toMatchObject({ status: 500, code: "33" });
    expect(answer.text).toContain("Cannot read data after semicolon");
    const inFormat = await post("INSERT INTO data_rows FORMAT Values", "('c'); DROP TABLE data_victim");
    expect(inFormat.code).toBe("33");
    expect(await tables()).toBe("data_rows\ndata_victim\n");
    expect((await post("SELECT count() FROM data_rows")).text).toBe("0\n");
  });

  it("takes Values ending in ';' and a ';' inside a string", async () => {
    expect((await post("INSERT INTO data_rows VALUES ('a;'), ('b');  ")).status).toBe(200);
    expect((await post("SELECT s FROM data_rows ORDER BY s")).text).toBe("a;\nb\n");
  });

  it("refuses data with an empty line before more data instead of running the rest", async () => {
    const csv = await post("INSERT INTO data_rows FORMAT CSV", '"x\n\nDROP TABLE data_victim;\n\n"\n');
    expect(csv).toMatchObject({ code: "48" });
    expect(csv.text).toContain("empty line");
    const json = await post("INSERT INTO data_rows FORMAT JSONEachRow", '{"s":"y"}\n\n{"s":"z"}\n');
    expect(json.code).toBe("48");
    expect(await tables()).toBe("data_rows\ndata_victim\n");
    expect((await post("SELECT count() FROM data_rows")).text).toBe("2\n");
  });

  it("takes data that only ends in empty lines", async () => {
    expect((await post("INSERT INTO data_rows FORMAT TSV", "c\n\n\n")).status).toBe(200);
    expect((await post("SELECT s FROM data_rows ORDER BY s")).text).toBe("a;\nb\nc\n");
  });
});
