import { NodeKind, type ParsedTemplate, RECORD_LENGTH } from "./mustache-parser.ts";

/** A name as a tag writes it: `.` (the current value), `name`, or a dotted path `a.b.c`. */
export interface TagName {
  raw: string;
  /** The parts of a dotted name, as mustache.js splits it; undefined for `.` and plain names. */
  path: string[] | undefined;
}

export type TemplateNode =
  | { kind: "text"; text: string; bytes: number }
  | { kind: "value"; name: TagName; escaped: boolean }
  | { kind: "section"; name: TagName; inverted: boolean; children: TemplateNode[] };

/** A template parsed by mustache.js and turned into the nodes our renderer walks. */
export interface CompiledTemplate {
  nodes: TemplateNode[];
  /** The most sections open at one point: 0 for a template without sections. */
  sectionDepth: number;
  /** `{{> name}}`: we have no partials to include, so it renders nothing. */
  hasPartial: boolean;
  /** How many nodes there are, sections' children included. */
  nodeCount: number;
  /** The names looked up in the top-level view, each once: variables and sections, not names inside sections. */
  topLevelNames: string[];
}

/** Nodes built between two pauses: a few hundred microseconds of work, measured by `npm run bench:render`. */
export const NODES_PER_SLICE = 4096;

/**
 * Builds the nodes of a parse, pausing (yielding) after every NODES_PER_SLICE of them: the
 * largest template has a hundred thousand nodes, tens of milliseconds of allocation when built
 * at once. A caller that needs no pauses runs it to the end with `compileAtOnce`.
 */
export function* compileParsed(parsed: ParsedTemplate): Generator<void, CompiledTemplate, void> {
  const { records, values } = parsed;
  const nodes: TemplateNode[] = [];
  // The sections whose children are being read, with how many of their children are still to come.
  const open: { into: TemplateNode[]; left: number }[] = [];
  let into = nodes;
  let left = Number.POSITIVE_INFINITY;
  let valueStart = 0;
  // One TagName per distinct name: a body of 50,000 `{{x}}` allocates one, not 50,000.
  const names = new Map<string, TagName>();
  const nameOf = (raw: string): TagName => {
    let name = names.get(raw);
    if (!name) {
      name = tagName(raw);
      names.set(raw, name);
    }
    return name;
  };
  const topLevelNames = new Set<string>();
  const nodeCount = records.length / RECORD_LENGTH;
  for (let index = 0; index < nodeCount; index++) {
    if (index > 0 && index % NODES_PER_SLICE === 0) yield;
    const at = index * RECORD_LENGTH;
    const kind = records[at] as number;
    const valueEnd = records[at + 1] as number;
    const extra = records[at + 2] as number;
    const value = values.slice(valueStart, valueEnd);
    valueStart = valueEnd;
    left--;
    if (into === nodes && kind !== NodeKind.text) topLevelNames.add(value);
    if (kind === NodeKind.text) {
      into.push({ kind: "text", text: value, bytes: extra });
    } else if (kind === NodeKind.escaped || kind === NodeKind.raw) {
      into.push({ kind: "value", name: nameOf(value), escaped: kind === NodeKind.escaped });
    } else {
      const children: TemplateNode[] = [];
      into.push({ kind: "section", name: nameOf(value), inverted: kind === NodeKind.inverted, children });
      if (extra > 0) {
        open.push({ into, left });
        into = children;
        left = extra;
      }
    }
    while (left === 0) {
      const outer = open.pop();
      if (!outer) throw new Error("a parsed template's section counts do not add up");
      ({ into, left } = outer);
    }
  }
  return {
    nodes,
    sectionDepth: parsed.sectionDepth,
    hasPartial: parsed.hasPartial,
    nodeCount,
    topLevelNames: [...topLevelNames],
  };
}

export function compileAtOnce(parsed: ParsedTemplate): CompiledTemplate {
  const steps = compileParsed(parsed);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

// mustache.js treats a name as a path only when a dot follows its first character.
function tagName(raw: string): TagName {
  return { raw, path: raw.indexOf(".") > 0 ? raw.split(".") : undefined };
}
