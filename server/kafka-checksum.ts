import { createRequire, Module } from "node:module";
import { crc32c } from "@node-rs/crc32";

// kafkajs checksums each record batch it produces with CRC-32C in JavaScript, a byte at a
// time: 8% of a busy worker's CPU. Imported before kafkajs, this module puts the same checksum
// in native code (SSE4.2, ten times as fast on a batch of 2 KiB) where kafkajs's record batch
// encoder requires it from. The broker checks every batch's checksum, so a wrong one would
// fail every produce, not pass unseen.
const require = createRequire(import.meta.url);
const KAFKAJS_CHECKSUM = require.resolve("kafkajs/src/protocol/recordBatch/crc32C/index.js");

if (require.cache[KAFKAJS_CHECKSUM] === undefined) {
  const module = new Module(KAFKAJS_CHECKSUM);
  module.filename = KAFKAJS_CHECKSUM;
  module.exports = crc32c;
  module.loaded = true;
  require.cache[KAFKAJS_CHECKSUM] = module;
}
