import { describe, expect, it } from "vitest";
import { countStatement } from "../../../stats/index.ts";

describe("countStatement", () => {
  it("puts every value of the query in parameters and none in the SQL text", () => {
    const { sql, params } = countStatement(
      {
        from: new Date("2026-11-30T00:00:00Z"),
        to: new Date("2026-12-01T00:00:00Z"),
        bucket: "week",
        groupBy: ["campaignId", "status"],
        channels: ["sms"],
        statuses: ["sent"],
        templateNames: ["promo'); DROP TABLE t; --"],
        campaignIds: ["cmp-1"],
      },
      11,
    );
    const values = ["promo", "cmp-1", "'sms'", "'sent'", "11", String(Date.UTC(2026, 10, 30)).slice(0, 6)];
    for (const value of values) expect(sql).not.toContain(value);
    expect(params).toEqual({
      from: Date.UTC(2026, 10, 30),
      to: Date.UTC(2026, 11, 1),
      limit: 11,
      channels: ["sms"],
      statuses: ["sent"],
      templateNames: ["promo'); DROP TABLE t; --"],
      campaignIds: ["cmp-1"],
    });
    expect(sql).toContain("GROUP BY bucket_start, campaign_id, status");
    expect(sql).toContain("template_name IN {templateNames:Array(String)}");
  });

  it("leaves out the filters that are empty, and the grouping when there is none", () => {
    const { sql, params } = countStatement(
      {
        from: new Date(0),
        to: new Date(1),
        groupBy: [],
        channels: [],
        statuses: [],
        templateNames: [],
        campaignIds: [],
      },
      1,
    );
    expect(Object.keys(params)).toEqual(["from", "to", "limit"]);
    expect(sql).not.toMatch(/ IN |GROUP BY|ORDER BY/);
  });
});
