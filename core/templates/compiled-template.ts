import Mustache from "mustache";

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
}

type Token = [type: string, value: string, start: number, end: number, children?: Token[]];

// Our own writer with no cache (mustache.js skips caching when `templateCache` is
// undefined; its typings omit the field): the global writer keeps every text it ever parsed
// in a map that nothing empties, so arbitrary text would grow the heap without bound.
const parser = Object.assign(new Mustache.Writer(), { templateCache: undefined });

// Bounded by weight, the characters of each text plus NODE_WEIGHT for each of its nodes (a
// node's objects take about that much), evicting the least recently used: a running
// service's templates fit many times over, and any text beyond them costs no memory for long.
const CACHE_MAX_WEIGHT = 8 * 1024 * 1024;
const NODE_WEIGHT = 64;
const cache = new Map<string, { compiled: CompiledTemplate; weight: number }>();
let cachedWeight = 0;

/** The template compiled, from the cache when it was compiled lately. Throws mustache.js's error for text it cannot parse. */
export function compileTemplate(text: string): CompiledTemplate {
  const hit = cache.get(text);
  if (hit) {
    cache.delete(text);
    cache.set(text, hit);
    return hit.compiled;
  }
  const { compiled, nodeCount } = compile(parser.parse(text) as Token[]);
  const weight = text.length + nodeCount * NODE_WEIGHT;
  if (weight > CACHE_MAX_WEIGHT) return compiled;
  cache.set(text, { compiled, weight });
  cachedWeight += weight;
  for (const [oldest, entry] of cache) {
    if (cachedWeight <= CACHE_MAX_WEIGHT) break;
    cache.delete(oldest);
    cachedWeight -= entry.weight;
  }
  return compiled;
}

// With a stack of its own rather than recursion: the depth is not checked yet, and text
// nesting sections thousands deep must be measured, not overflow the call stack.
function compile(tokens: Token[]): { compiled: CompiledTemplate; nodeCount: number } {
  const nodes: TemplateNode[] = [];
  let sectionDepth = 0;
  let hasPartial = false;
  let nodeCount = 0;
  const pending: { tokens: Token[]; into: TemplateNode[]; depth: number }[] = [
    { tokens, into: nodes, depth: 0 },
  ];
  for (let level = pending.pop(); level; level = pending.pop()) {
    sectionDepth = Math.max(sectionDepth, level.depth);
    for (const [type, value, , , children] of level.tokens) {
      nodeCount++;
      switch (type) {
        case "text":
          level.into.push({ kind: "text", text: value, bytes: Buffer.byteLength(value) });
          break;
        case "name":
        case "&":
          level.into.push({ kind: "value", name: tagName(value), escaped: type === "name" });
          break;
        case "#":
        case "^": {
          const section: TemplateNode[] = [];
          level.into.push({
            kind: "section",
            name: tagName(value),
            inverted: type === "^",
            children: section,
          });
          pending.push({ tokens: children ?? [], into: section, depth: level.depth + 1 });
          break;
        }
        case ">":
          hasPartial = true;
          break;
        // "!" comments and "=" delimiter changes render nothing.
      }
    }
  }
  return { compiled: { nodes, sectionDepth, hasPartial }, nodeCount };
}

// mustache.js treats a name as a path only when a dot follows its first character.
function tagName(raw: string): TagName {
  return { raw, path: raw.indexOf(".") > 0 ? raw.split(".") : undefined };
}
