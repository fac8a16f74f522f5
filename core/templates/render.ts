import Mustache from "mustache";
import { DomainError, ErrorCatalog, type ErrorProblem } from "../errors.ts";
import type { LocaleContent, Variables } from "./template.ts";

type Token = [type: string, value: string, start: number, end: number, children?: Token[]];

const FIELDS = [
  ["subject", "subject"],
  ["body", "body"],
  ["bodyHtml", "body_html"],
] as const;

/**
 * Problems of the Mustache in one locale's content: unparsable text and partials
 * (we have no partials to include, so `{{> x}}` would silently render nothing).
 * `pointer` is where the locale sits in the request, e.g. "/locales/0".
 */
export function mustacheProblems(content: LocaleContent, pointer: string): ErrorProblem[] {
  const problems: ErrorProblem[] = [];
  for (const [field, protoName] of FIELDS) {
    const source = { pointer: `${pointer}/${protoName}` };
    let tokens: Token[];
    try {
      tokens = Mustache.parse(content[field]) as Token[];
    } catch (error) {
      problems.push({
        detail: `${protoName} is not a valid Mustache template: ${(error as Error).message}`,
        source,
      });
      continue;
    }
    if (walk(tokens).some((token) => token[0] === ">")) {
      problems.push({
        detail: `${protoName} uses a partial ({{> name}}), which templates cannot include`,
        source,
      });
    }
  }
  return problems;
}

export function assertValidMustache(locales: LocaleContent[], pointer = "/locales"): void {
  const [first, ...more] = locales.flatMap((content, index) =>
    mustacheProblems(content, `${pointer}/${index}`),
  );
  if (first) throw new DomainError(ErrorCatalog.validation, first.detail, first.source, more);
}

export interface RenderedContent {
  subject: string;
  body: string;
  bodyHtml: string;
  /** Top-level variables the content uses that `variables` lacks (they render empty). */
  missingVariables: string[];
}

/**
 * Renders one locale's content. The HTML body escapes `{{var}}` (use `{{{var}}}` for
 * trusted HTML); subject and body are plain text, so escaping them would turn "&"
 * into "&amp;" in an SMS or a push title.
 */
export function renderContent(content: LocaleContent, variables: Variables): RenderedContent {
  const plain = { escape: (value: unknown) => String(value) };
  const missing = new Set<string>();
  for (const [field] of FIELDS) {
    for (const name of topLevelNames(Mustache.parse(content[field]) as Token[])) {
      if (lookup(variables, name) === undefined) missing.add(name);
    }
  }
  return {
    subject: Mustache.render(content.subject, variables, {}, plain),
    body: Mustache.render(content.body, variables, {}, plain),
    bodyHtml: Mustache.render(content.bodyHtml, variables),
    missingVariables: [...missing].sort(),
  };
}

// Only sections carry child tokens at index 4; a partial keeps its indentation there.
function walk(tokens: Token[]): Token[] {
  return tokens.flatMap((token) => [
    token,
    ...(token[0] === "#" || token[0] === "^" ? walk(token[4] ?? []) : []),
  ]);
}

/** Names looked up in the top-level view: variables and section names, not names inside sections. */
function topLevelNames(tokens: Token[]): string[] {
  return tokens
    .filter(([type]) => type === "name" || type === "&" || type === "#" || type === "^")
    .map(([, value]) => value);
}

function lookup(view: Variables, name: string): unknown {
  if (name === ".") return view;
  let current: unknown = view;
  for (const part of name.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
