// The code of a parser thread (started by thread-parser.ts): says it is ready once its
// modules are loaded, then parses each text it is sent with mustache.js and sends back the
// outcome, the records' buffer transferred, not copied.
import { parentPort } from "node:worker_threads";
import { parseMustache } from "../../core/templates/mustache-parser.ts";
import type { ParseReply, ParseRequest, ThreadReady } from "./thread-parser.ts";

const port = parentPort;
if (!port) throw new Error("parse-thread.ts runs as a worker thread, not as a program");
port.on("message", ({ id, text }: ParseRequest) => {
  const outcome = parseMustache(text);
  const reply: ParseReply = { id, outcome };
  port.postMessage(reply, "parsed" in outcome ? [outcome.parsed.records.buffer] : []);
});
port.postMessage({ ready: true } satisfies ThreadReady);
