// google.api.http path templates (google/api/http.proto):
//   Template = "/" Segments [ Verb ] ;  Segment = "*" | "**" | LITERAL | Variable ;
//   Variable = "{" FieldPath [ "=" Segments ] "}" ;  Verb = ":" LITERAL ;

type Part = { kind: "literal"; value: string } | { kind: "any" } | { kind: "rest" };

interface Variable {
  /** Field path in the request message, e.g. ["template", "id"]. */
  fieldPath: string[];
  parts: Part[];
}

type Segment = Part | { kind: "variable"; variable: Variable };

export interface PathTemplate {
  source: string;
  segments: Segment[];
  verb?: string;
  /** Field paths bound by the path, so query parameters may not set them again. */
  boundFields: string[];
}

export class PathTemplateError extends Error {}

export function parsePathTemplate(source: string): PathTemplate {
  if (!source.startsWith("/")) throw new PathTemplateError(`path template must start with "/": ${source}`);
  let body = source.slice(1);
  let verb: string | undefined;
  const lastBrace = body.lastIndexOf("}");
  const colon = body.indexOf(":", lastBrace + 1);
  if (colon >= 0) {
    verb = body.slice(colon + 1);
    body = body.slice(0, colon);
  }
  const segments: Segment[] = [];
  for (const raw of splitOutsideBraces(body)) {
    if (raw.startsWith("{")) {
      if (!raw.endsWith("}")) throw new PathTemplateError(`unclosed variable in ${source}`);
      const [path = "", pattern] = raw.slice(1, -1).split("=", 2);
      const parts = pattern === undefined ? [{ kind: "any" } as Part] : pattern.split("/").map(partOf);
      segments.push({ kind: "variable", variable: { fieldPath: path.split("."), parts } });
    } else {
      segments.push(partOf(raw));
    }
  }
  const rests = segments
    .flatMap((s) => (s.kind === "variable" ? s.variable.parts : [s]))
    .filter((p) => p.kind === "rest");
  if (rests.length > 1) throw new PathTemplateError(`at most one "**" in ${source}`);
  const boundFields = segments.flatMap((s) =>
    s.kind === "variable" ? [s.variable.fieldPath.join(".")] : [],
  );
  return { source, segments, ...(verb === undefined ? {} : { verb }), boundFields };
}

function partOf(raw: string): Part {
  if (raw === "*") return { kind: "any" };
  if (raw === "**") return { kind: "rest" };
  if (raw === "" || /[{}]/.test(raw)) throw new PathTemplateError(`bad path segment "${raw}"`);
  return { kind: "literal", value: raw };
}

function splitOutsideBraces(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of body) {
    if (char === "{") depth++;
    if (char === "}") depth--;
    if (char === "/" && depth === 0) {
      out.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  out.push(current);
  return out;
}

/** A higher score is a more specific template; used to order candidates. */
export function specificity(template: PathTemplate): number {
  let score = 0;
  for (const segment of template.segments) {
    const parts = segment.kind === "variable" ? segment.variable.parts : [segment];
    for (const part of parts) score += part.kind === "literal" ? 100 : part.kind === "any" ? 10 : 1;
  }
  return score + (template.verb ? 1000 : 0);
}

/**
 * Matches a request path (already split at "/" and without the verb) against the template.
 * Returns the variables' values, percent-decoded (a multi-segment value keeps "%2F" as it
 * is, as http.proto asks), or undefined when the path does not match. Throws URIError on a
 * malformed escape.
 */
export function matchPath(
  template: PathTemplate,
  path: string,
  verb: string | undefined,
  /** `path.split("/").slice(1)`, when the caller matches one path against many templates. */
  split?: readonly string[],
): Map<string, string> | undefined {
  if ((template.verb ?? undefined) !== verb) return undefined;
  const { flat, restIndex, literalPrefix } = flatten(template);
  // Most templates differ from the path in their leading literals: no need to split it for them.
  if (!path.startsWith(literalPrefix)) return undefined;
  const pieces = split ?? path.split("/").slice(1);
  if (restIndex < 0 && pieces.length !== flat.length) return undefined;
  if (restIndex >= 0 && pieces.length < flat.length) return undefined;
  const captured = new Map<Variable, string[]>();
  const capture = (variable: Variable | undefined, taken: string[]) => {
    if (!variable) return;
    const list = captured.get(variable);
    if (list) list.push(...taken);
    else captured.set(variable, taken);
  };
  let p = 0;
  for (let i = 0; i < flat.length; i++) {
    const { part, variable } = flat[i] as { part: Part; variable?: Variable };
    if (part.kind === "rest") {
      const take = pieces.length - (flat.length - 1 - i) - p;
      const taken = pieces.slice(p, p + take);
      p += take;
      if (taken.some((piece) => piece === "")) return undefined;
      capture(variable, taken);
      continue;
    }
    const piece = pieces[p++];
    if (piece === undefined) return undefined;
    if (part.kind === "literal" ? piece !== part.value : piece === "") return undefined;
    capture(variable, [piece]);
  }
  const values = new Map<string, string>();
  for (const [variable, taken] of captured) {
    const single = variable.parts.length === 1 && variable.parts[0]?.kind === "any";
    const decode = single ? decodeURIComponent : decodeKeepingSlashes;
    values.set(variable.fieldPath.join("."), taken.map(decode).join("/"));
  }
  return values;
}

interface FlatTemplate {
  flat: { part: Part; variable?: Variable }[];
  restIndex: number;
  /** "/a/b" for a template that starts with the literals a and b. */
  literalPrefix: string;
}

const FLATTENED = new WeakMap<PathTemplate, FlatTemplate>();

/** The template's parts in path order, computed once per template: every request matches against them. */
function flatten(template: PathTemplate): FlatTemplate {
  let known = FLATTENED.get(template);
  if (!known) {
    const flat: { part: Part; variable?: Variable }[] = [];
    for (const segment of template.segments) {
      if (segment.kind === "variable")
        for (const part of segment.variable.parts) flat.push({ part, variable: segment.variable });
      else flat.push({ part: segment });
    }
    const literals: string[] = [];
    for (const { part } of flat) {
      if (part.kind !== "literal") break;
      literals.push(part.value);
    }
    known = {
      flat,
      restIndex: flat.findIndex((entry) => entry.part.kind === "rest"),
      literalPrefix: literals.map((literal) => `/${literal}`).join(""),
    };
    FLATTENED.set(template, known);
  }
  return known;
}

function decodeKeepingSlashes(piece: string): string {
  return piece.replace(/%(?!2[fF])[0-9a-fA-F]{2}(?:%(?!2[fF])[0-9a-fA-F]{2})*/g, (run) =>
    decodeURIComponent(run),
  );
}
