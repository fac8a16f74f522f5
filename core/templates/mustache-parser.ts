// mustache.js's parser, behind a port: it is the contract of what a template means, but it
// makes a token of every character of plain text, so a maximum-size body takes hundreds of
// milliseconds to parse. Where that work runs (inline here, or on a thread of its own, see
// server/mustache/) is the adapter's choice; core only says what a parse gives back.
//
// The token tree is not what crosses threads: a structured clone of the 100,000 tokens of a
// 500,000-character body with 50,000 tags took 90-110 ms to receive on the main thread (as
// long as JSON.parse of the same tree), which is the stall this port exists to avoid. The parse
// is flattened into one Int32Array (transferred, not copied) and one string (copied at memory
// speed), which the compiler turns into nodes in slices (compiled-template.ts).
import Mustache from "mustache";

/** What a parse gives back: the template, or mustache.js's own error message for text it cannot parse. */
export type ParseOutcome = { parsed: ParsedTemplate } | { syntaxError: string };

/** Parses Mustache as mustache.js 4 does, wherever the work runs. Rejects only when the parser itself fails. */
export interface MustacheParser {
  parse(text: string): Promise<ParseOutcome>;
}

/**
 * A parse flattened: RECORD_LENGTH int32 per node, in document order (a section's children
 * follow it): its kind, where its value ends in `values` (each starts where the one before
 * ended), and for text its UTF-8 bytes, for a section its number of direct children.
 */
export interface ParsedTemplate {
  records: Int32Array<ArrayBuffer>;
  /** The value of every node, concatenated: text as written, tag names as mustache.js trimmed them. */
  values: string;
  sectionDepth: number;
  hasPartial: boolean;
}

export const RECORD_LENGTH = 3;
export const NodeKind = { text: 0, escaped: 1, raw: 2, section: 3, inverted: 4 } as const;

type Token = [type: string, value: string, start: number, end: number, children?: Token[]];

const KIND_OF_TOKEN: Record<string, number | undefined> = {
  text: NodeKind.text,
  name: NodeKind.escaped,
  "&": NodeKind.raw,
  "#": NodeKind.section,
  "^": NodeKind.inverted,
  // "!" comments and "=" delimiter changes render nothing; ">" partials neither (we have none to include).
};

// Our own writer with no cache (mustache.js skips caching when `templateCache` is
// undefined; its typings omit the field): the global writer keeps every text it ever parsed
// in a map that nothing empties, so arbitrary text would grow the heap without bound.
const writer = Object.assign(new Mustache.Writer(), { templateCache: undefined });

/** Parses on the calling thread: the work the adapters schedule. */
export function parseMustache(text: string): ParseOutcome {
  let tokens: Token[];
  try {
    tokens = writer.parse(text) as Token[];
  } catch (error) {
    return { syntaxError: error instanceof Error ? error.message : String(error) };
  }
  return { parsed: flatten(tokens) };
}

/** Parses inline: for tests, tools, and texts short enough that the work is not worth a thread. */
export class InlineMustacheParser implements MustacheParser {
  async parse(text: string): Promise<ParseOutcome> {
    return parseMustache(text);
  }
}

// With a stack of its own rather than recursion: the depth is not checked yet, and text
// nesting sections thousands deep must be measured, not overflow the call stack.
function flatten(tokens: Token[]): ParsedTemplate {
  const records: number[] = [];
  const values: string[] = [];
  let valuesEnd = 0;
  let sectionDepth = 0;
  let hasPartial = false;
  /** The token lists being walked; `countAt` is where their section's child count is, -1 at the top. */
  const open: { tokens: Token[]; next: number; countAt: number }[] = [{ tokens, next: 0, countAt: -1 }];
  while (open.length > 0) {
    const level = open[open.length - 1] as (typeof open)[number];
    const token = level.tokens[level.next++];
    if (token === undefined) {
      open.pop();
      continue;
    }
    const [type, value, , , children] = token;
    if (type === ">") hasPartial = true;
    const kind = KIND_OF_TOKEN[type];
    if (kind === undefined) continue;
    if (level.countAt >= 0) records[level.countAt] = (records[level.countAt] ?? 0) + 1;
    values.push(value);
    valuesEnd += value.length;
    records.push(kind, valuesEnd, kind === NodeKind.text ? Buffer.byteLength(value) : 0);
    if (kind === NodeKind.section || kind === NodeKind.inverted) {
      open.push({ tokens: children ?? [], next: 0, countAt: records.length - 1 });
      sectionDepth = Math.max(sectionDepth, open.length - 1);
    }
  }
  return { records: Int32Array.from(records), values: values.join(""), sectionDepth, hasPartial };
}
