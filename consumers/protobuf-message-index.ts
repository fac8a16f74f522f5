import { fromBinary } from "@bufbuild/protobuf";
import { type DescriptorProto, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

// Which message of a registered Protobuf schema the Confluent framing's message indexes name:
// [0] the first top-level message, [1, 0] the first nested in the second, and so on.

/** The messages of a schema in declaration order, and whether their nested ones are known. */
export interface MessageOutline {
  package: string;
  messages: OutlinedMessage[];
  /** False for .proto text, whose nested messages are not outlined here. */
  nestedKnown: boolean;
}

interface OutlinedMessage {
  name: string;
  nested: OutlinedMessage[];
}

/**
 * The outline of a schema as the registry gives it back: a base64 serialized
 * FileDescriptorProto (what Confluent's Python and Go serializers, and we, register) or .proto
 * text (what its Java serializer registers). Of text only the top-level messages are read: a
 * nested message's index also counts the entries protoc makes for map fields, which only a full
 * parser would know. Undefined when neither can be read.
 */
export function outlineOf(schema: string): MessageOutline | undefined {
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(schema)) {
    try {
      const file = fromBinary(FileDescriptorProtoSchema, Buffer.from(schema, "base64"));
      return { package: file.package, messages: file.messageType.map(outlined), nestedKnown: true };
    } catch {
      // Base64 that is no descriptor: nothing to outline.
      return undefined;
    }
  }
  return textOutlineOf(schema);
}

export type MessageAt = { kind: "message"; name: string } | { kind: "absent" } | { kind: "untold" };

/** The full name of the message the indexes lead to, if the outline can tell. */
export function messageAt(outline: MessageOutline, indexes: number[]): MessageAt {
  if (indexes.length > 1 && !outline.nestedKnown) return { kind: "untold" };
  const path: string[] = outline.package ? [outline.package] : [];
  let messages = outline.messages;
  for (const index of indexes) {
    const message = messages[index];
    if (!message) return { kind: "absent" };
    path.push(message.name);
    messages = message.nested;
  }
  return { kind: "message", name: path.join(".") };
}

function outlined(message: DescriptorProto): OutlinedMessage {
  return { name: message.name, nested: message.nestedType.map(outlined) };
}

// Comments and string literals first (a brace or the word "message" inside them is not a
// declaration), then words and single punctuation.
const NOISE = /\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g;
const TOKEN = /[A-Za-z_][A-Za-z0-9_.]*|\S/g;

function textOutlineOf(text: string): MessageOutline {
  const tokens = text.replace(NOISE, " ").match(TOKEN) ?? [];
  let depth = 0;
  let pkg = "";
  const messages: OutlinedMessage[] = [];
  tokens.forEach((token, i) => {
    if (token === "{") depth++;
    else if (token === "}") depth--;
    else if (depth === 0 && token === "package" && tokens[i + 2] === ";") pkg = tokens[i + 1] ?? "";
    else if (depth === 0 && token === "message" && tokens[i + 2] === "{") {
      messages.push({ name: tokens[i + 1] ?? "", nested: [] });
    }
  });
  return { package: pkg, messages, nestedKnown: false };
}
