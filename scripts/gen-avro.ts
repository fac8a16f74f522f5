// Writes the Avro schema of every event's data (consumers/event-types.ts), generated from its
// proto message in gen/, as <CloudEvents type>.avsc into the directory given (default
// contracts/avro), with the proto comments as docs. Run by `npm run gen` after buf generate;
// CI compares its output with the committed files. Schemas of event types no longer listed
// are removed.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { avroSchemaOf, EVENT_TYPES } from "../consumers/index.ts";
import { loadProtoComments } from "../server/openapi/proto-comments.ts";

// gen/ carries no comments; the descriptor set npm run gen writes before this does.
const docs = loadProtoComments("server/openapi/descriptors.binpb");

const outDir = process.argv[2] ?? "contracts/avro";
mkdirSync(outDir, { recursive: true });
for (const file of readdirSync(outDir)) {
  if (file.endsWith(".avsc")) rmSync(join(outDir, file));
}
for (const { type, message } of EVENT_TYPES) {
  writeFileSync(join(outDir, `${type}.avsc`), `${JSON.stringify(avroSchemaOf(message, docs), null, 2)}\n`);
}
console.log(`[gen-avro] ${EVENT_TYPES.length} schemas in ${outDir}`);
