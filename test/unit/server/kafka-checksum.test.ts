import "../../../server/infrastructure.ts";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { crc32c } from "@node-rs/crc32";
import { describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);

describe("the checksum of the record batches kafkajs produces", () => {
  it("is the native CRC-32C once the process's infrastructure is loaded", () => {
    const used = require("kafkajs/src/protocol/recordBatch/crc32C/index.js");
    expect(used).toBe(crc32c);
  });

  it("is the value kafkajs's own JavaScript computes, whatever the batch's size", () => {
    const javascript = require("kafkajs/src/protocol/recordBatch/crc32C/crc32C.js") as (b: Buffer) => number;
    for (const size of [0, 1, 7, 8, 9, 63, 64, 65, 1_000, 4_096, 70_001]) {
      for (let round = 0; round < 5; round++) {
        const batch = randomBytes(size);
        expect(crc32c(batch)).toBe(javascript(batch));
      }
    }
  });
});
