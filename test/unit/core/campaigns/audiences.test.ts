import { describe, expect, it } from "vitest";
import { type AudienceSource, Audiences } from "../../../../core/campaigns/index.ts";
import { DomainError } from "../../../../core/errors.ts";

const SEGMENT = "6f1c1a56-3c55-4c1e-9d0e-1a2b3c4d5e6f";

/** A source that answers with what it was asked, so the routing shows. */
function echo(name: string): AudienceSource {
  return {
    async segment(key) {
      return { name: `${name}:${key}`, size: 1, ready: true };
    },
    async members(key, cursor, limit) {
      return { userIds: [`${name}:${key}:${cursor}:${limit}`], cursor: "", skipped: 0 };
    },
  };
}

describe("Audiences", () => {
  const both = new Audiences({ upload: echo("upload"), analytics: echo("analytics") });

  it("asks the source the id names, with the key that follows its prefix", async () => {
    expect(await both.find(`upload:${SEGMENT.toUpperCase()}`)).toMatchObject({ name: `upload:${SEGMENT}` });
    expect(await both.find("analytics:spring-buyers")).toMatchObject({ name: "analytics:spring-buyers" });
    expect((await both.members("analytics:spring-buyers", "token-2", 500)).userIds).toEqual([
      "analytics:spring-buyers:token-2:500",
    ]);
  });

  it("names what is wrong with an id no source reads, and refuses to ask for one", async () => {
    expect(both.problemOf(`upload:${SEGMENT}`)).toBeUndefined();
    expect(both.problemOf("analytics:spring buyers")).toMatch(/printable characters without spaces$/);
    expect(both.problemOf("analytics:")).toMatch(/printable characters without spaces$/);
    expect(both.problemOf("crm:42")).toMatch(/names no source of segments/);
    const uploadOnly = new Audiences({ upload: echo("upload") });
    expect(uploadOnly.problemOf("analytics:spring-buyers")).toMatch(/no Analytics Service configured/);
    await expect(uploadOnly.members("analytics:spring-buyers", "", 10)).rejects.toBeInstanceOf(DomainError);
  });
});
